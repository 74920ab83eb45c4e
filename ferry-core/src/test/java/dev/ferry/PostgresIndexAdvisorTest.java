package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.observe.IndexAdvice;
import dev.ferry.observe.IndexAdvisor;
import dev.ferry.observe.SqlStatistics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The index advisor on real PostgreSQL, on the seed's own examples: {@code users(discord_id)} with 200,000 rows,
 * {@code matches(discord_id)} and {@code server_stats(guild_id)}. Costs with each index come from hypopg, which
 * {@code .ci/run} installs; the test creates the extension in its database.
 */
class PostgresIndexAdvisorTest {

    @BeforeAll
    static void tables() throws SQLException {
        try (Connection c = Postgres.admin(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_adv_users, ferry_adv_matches, ferry_adv_server_stats");
            s.execute("CREATE TABLE ferry_adv_users (id bigint PRIMARY KEY, discord_id bigint NOT NULL, name text)");
            s.execute("INSERT INTO ferry_adv_users SELECT g, 100000000 + g, 'user-' || g FROM generate_series(1, 200000) g");
            s.execute("CREATE TABLE ferry_adv_matches (id bigint PRIMARY KEY, discord_id bigint, played_at timestamptz)");
            s.execute("INSERT INTO ferry_adv_matches SELECT g, 100000000 + g % 5000, now() - g * interval '1 minute' "
                    + "FROM generate_series(1, 100000) g");
            s.execute("CREATE TABLE ferry_adv_server_stats (guild_id bigint, day date, messages int)");
            s.execute("INSERT INTO ferry_adv_server_stats SELECT g % 2000, current_date - (g / 2000), g "
                    + "FROM generate_series(1, 60000) g");
            s.execute("ANALYZE ferry_adv_users, ferry_adv_matches, ferry_adv_server_stats");
            s.execute("CREATE EXTENSION IF NOT EXISTS hypopg");
        }
    }

    @AfterAll
    static void drop() throws SQLException {
        try (Connection c = Postgres.admin(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_adv_users, ferry_adv_matches, ferry_adv_server_stats");
        }
    }

    @Test
    void proposesTheMissingIndexThenNoLongerOnceItExists() throws Exception {
        String sql = "SELECT id, name FROM ferry_adv_users WHERE discord_id = 100004242";
        try (Connection c = Postgres.admin()) {
            assertThat(IndexAdvisor.hypopgInstalled(c)).isTrue();
            List<IndexAdvice> advice = IndexAdvisor.create().advise(c, sql);
            assertThat(advice).singleElement().satisfies(a -> {
                assertThat(a.createIndex()).isEqualTo("CREATE INDEX ON public.ferry_adv_users (discord_id)");
                assertThat(a.reason()).contains("Seq Scan on public.ferry_adv_users", "of 200000 rows");
                assertThat(a.costAfter()).as("hypopg's cost with the index").isLessThan(a.costBefore() / 10);
            });
            assertThat(c.getAutoCommit()).as("restored").isTrue();
            assertThat(hypotheticalIndexes(c)).as("hypopg's index is gone").isZero();
            PlanFigures before = explainAnalyze(c, sql);

            try (Statement s = c.createStatement()) {
                s.execute(advice.get(0).createIndex());
            }
            try {
                PlanFigures after = explainAnalyze(c, sql);
                assertThat(IndexAdvisor.create().advise(c, sql)).isEmpty();
                assertThat(before.rowsRemoved).as("the scan read the whole table").isGreaterThan(199_000);
                assertThat(after.rowsRemoved).as("the index reads only the match").isZero();
                assertThat(after.cost).isLessThan(before.cost / 10);
                System.out.printf("advisor: %s: execution %.3f ms before the index, %.3f ms after%n", sql,
                        before.millis, after.millis);
            } finally {
                try (Statement s = c.createStatement()) {
                    s.execute("DROP INDEX IF EXISTS ferry_adv_users_discord_id_idx");
                }
            }
        }
    }

    @Test
    void fingerprintsAndParametersUseTheGenericPlan() throws Exception {
        try (Connection c = Postgres.admin()) {
            assertThat(IndexAdvisor.create().advise(c, "SELECT * FROM ferry_adv_matches WHERE discord_id = ?"))
                    .extracting(IndexAdvice::createIndex)
                    .containsExactly("CREATE INDEX ON public.ferry_adv_matches (discord_id)");
            assertThat(IndexAdvisor.create().advise(c,
                    "SELECT sum(messages) FROM ferry_adv_server_stats WHERE guild_id = $1 AND day >= $2"))
                    .extracting(IndexAdvice::columns).containsExactly(List.of("guild_id", "day"));
            assertThat(IndexAdvisor.create().advise(c, "SELECT * FROM ferry_adv_users WHERE id IN (?, ...)"))
                    .as("the primary key serves it").isEmpty();
            assertThat(IndexAdvisor.create().advise(c, "SELECT count(*) FROM ferry_adv_users"))
                    .as("no filter: an index would not help").isEmpty();
            assertThat(IndexAdvisor.create().advise(c, "SELECT * FROM ferry_adv_users WHERE lower(name) = 'x'"))
                    .as("an expression, not a plain column").isEmpty();
        }
    }

    @Test
    void quotedNamesTheCallersTransactionAndFailuresAreRespected() throws Exception {
        try (Connection c = Postgres.admin()) {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS \"Ferry Orders\"");
                s.execute("CREATE TABLE \"Ferry Orders\" (id bigint PRIMARY KEY, \"userId\" bigint)");
                s.execute("INSERT INTO \"Ferry Orders\" SELECT g, g FROM generate_series(1, 50000) g");
                s.execute("ANALYZE \"Ferry Orders\"");
            }
            try {
                assertThat(IndexAdvisor.create().advise(c, "SELECT * FROM \"Ferry Orders\" WHERE \"userId\" = 7"))
                        .extracting(IndexAdvice::createIndex)
                        .containsExactly("CREATE INDEX ON public.\"Ferry Orders\" (\"userId\")");

                c.setAutoCommit(false); // the caller's own transaction survives the advice
                try (Statement s = c.createStatement()) {
                    s.execute("INSERT INTO \"Ferry Orders\" VALUES (-1, -1)");
                }
                assertThat(IndexAdvisor.create().advise(c, "SELECT * FROM ferry_adv_users WHERE discord_id = ?"))
                        .hasSize(1);
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM \"Ferry Orders\" WHERE id = -1")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(1);
                }
                c.rollback();
                c.setAutoCommit(true);

                assertThatThrownBy(() -> IndexAdvisor.create().advise(c, "SELECT * FROM no_such_table WHERE a = ?"))
                        .isInstanceOf(SQLException.class);
                assertThatThrownBy(() -> IndexAdvisor.create().analyze(true)
                        .advise(c, "SELECT 1; DELETE FROM ferry_adv_users"))
                        .hasMessageContaining("several statements");
                assertThat(IndexAdvisor.create().advise(c, "SELECT * FROM ferry_adv_users WHERE discord_id = ?"))
                        .as("nothing left behind by the failures").hasSize(1);
                assertThat(hypotheticalIndexes(c)).isZero();
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'ferry_advise%'")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isZero();
                }
            } finally {
                try (Statement s = c.createStatement()) {
                    s.execute("DROP TABLE IF EXISTS \"Ferry Orders\"");
                }
            }
        }
    }

    @Test
    void advisesFromThePoolsSlowestStatements() throws Exception {
        FerryDataSource ds = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("advisor"))
                .maximumPoolSize(2).minimumIdle(0).sqlStatistics(true).build());
        try (ds) {
            try (Connection c = ds.getConnection();
                 PreparedStatement ps = c.prepareStatement("SELECT id FROM ferry_adv_users WHERE discord_id = ?")) {
                for (int i = 0; i < 3; i++) {
                    ps.setLong(1, 100_000_001L + i);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                    }
                }
            }
            SqlStatistics stats = ds.unwrap(FerryPool.class).sqlStatistics().orElseThrow();
            try (Connection c = ds.getConnection()) {
                assertThat(IndexAdvisor.create().advise(c, stats, 5)).extracting(IndexAdvice::createIndex)
                        .containsExactly("CREATE INDEX ON public.ferry_adv_users (discord_id)");
            }
        }
    }

    private record PlanFigures(double cost, long rowsRemoved, double millis) {
    }

    private static PlanFigures explainAnalyze(Connection c, String sql) throws SQLException {
        double cost = 0;
        long removed = 0;
        double millis = 0;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("EXPLAIN (ANALYZE) " + sql)) {
            while (rs.next()) {
                String line = rs.getString(1);
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("cost=[0-9.]+\\.\\.([0-9.]+)").matcher(line);
                if (cost == 0 && m.find()) {
                    cost = Double.parseDouble(m.group(1));
                }
                if (line.contains("Rows Removed by Filter:")) {
                    removed += Long.parseLong(line.replaceAll(".*Rows Removed by Filter: (\\d+).*", "$1"));
                }
                if (line.startsWith("Execution Time:")) {
                    millis = Double.parseDouble(line.replaceAll("[^0-9.]", ""));
                }
            }
        }
        return new PlanFigures(cost, removed, millis);
    }

    private static int hypotheticalIndexes(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM hypopg_list_indexes")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
