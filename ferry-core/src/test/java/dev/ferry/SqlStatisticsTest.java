package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.observe.SqlStatistics;
import dev.ferry.observe.StatementStats;
import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Per-statement figures and the slow-statement event, on H2 (rows) and on the stub driver (time, errors). */
class SqlStatisticsTest {

    private FerryDataSource ds;

    @AfterEach
    void close() {
        if (ds != null) {
            ds.close();
        }
    }

    private SqlStatistics start(FerryConfig.Builder config) throws SQLException {
        ds = new FerryDataSource(config.build());
        ds.start();
        return ds.unwrap(FerryPool.class).sqlStatistics().orElseThrow();
    }

    private static StatementStats find(SqlStatistics stats, String fingerprint) {
        return stats.snapshot().stream().filter(s -> s.fingerprint().equals(fingerprint)).findFirst().orElseThrow();
    }

    @ParameterizedTest(name = "autoCommit={0}")
    @ValueSource(booleans = {true, false})
    void callsRowsAndErrorsPerFingerprintOnH2(boolean autoCommit) throws Exception {
        SqlStatistics stats = start(FerryConfig.builder().jdbcUrl("jdbc:h2:mem:sqlstats" + autoCommit
                + ";DB_CLOSE_DELAY=-1").maximumPoolSize(1).minimumIdle(0).autoCommit(autoCommit).sqlStatistics(true));
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE users (id BIGINT PRIMARY KEY, discord_id BIGINT)");
            assertThat(s.executeUpdate("INSERT INTO users SELECT x, x * 10 FROM SYSTEM_RANGE(1, 50)")).isEqualTo(50);
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM users WHERE discord_id < ?")) {
                for (int limit : new int[] {100, 200}) {
                    ps.setInt(1, limit);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            rs.getLong(1);
                        }
                    }
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT id FROM users WHERE id = 7")) {
                assertThat(rs.next()).isTrue();
            }
            try (ResultSet rs = s.executeQuery("SELECT id FROM users WHERE id = 8")) {
                assertThat(rs.next()).isTrue();
            }
            assertThatThrownBy(() -> s.executeQuery("SELECT nope FROM users WHERE id = 1"))
                    .isInstanceOf(SQLException.class);
            s.addBatch("UPDATE users SET discord_id = 1 WHERE id = 1");
            s.addBatch("UPDATE users SET discord_id = 2 WHERE id = 2");
            assertThat(s.executeBatch()).containsExactly(1, 1);
            if (!autoCommit) {
                c.commit();
            }
        }
        assertThat(find(stats, "SELECT id FROM users WHERE discord_id < ?")).satisfies(st -> {
            assertThat(st.calls()).isEqualTo(2);
            assertThat(st.rows()).as("rows read: 9 + 19").isEqualTo(28);
            assertThat(st.errors()).isZero();
        });
        assertThat(find(stats, "SELECT id FROM users WHERE id = ?")).satisfies(st -> {
            assertThat(st.calls()).as("two literals, one fingerprint").isEqualTo(2);
            assertThat(st.rows()).isEqualTo(2);
        });
        assertThat(find(stats, "INSERT INTO users SELECT x, x * ? FROM SYSTEM_RANGE(?, ...)").rows()).isEqualTo(50);
        assertThat(find(stats, "SELECT nope FROM users WHERE id = ?").errors()).isEqualTo(1);
        assertThat(find(stats, "UPDATE users SET discord_id = ? WHERE id = ?")).satisfies(st -> {
            assertThat(st.calls()).as("one batch").isEqualTo(1);
            assertThat(st.rows()).isEqualTo(2);
        });
        assertThat(stats.snapshot()).allSatisfy(st -> assertThat(st.fingerprint()).doesNotContain("'", "= 7", "200"));
    }

    @Test
    void slowStatementsRaiseTheEventAndLeadTopSlowest() throws Exception {
        StubDatabase db = StubDatabase.create();
        FakeTicker ticker = new FakeTicker();
        RecordingListener events = new RecordingListener();
        // The stub's execute moves the fake clock: a statement "takes" exactly what the test says.
        long[] cost = {0};
        db.onExecute = () -> ticker.advance(Duration.ofNanos(cost[0]));
        SqlStatistics stats = start(FerryConfig.builder().jdbcUrl(db.url())
                .driverClassName("dev.ferry.testkit.StubDriver").ticker(ticker).maximumPoolSize(1).minimumIdle(0)
                .slowStatementThreshold(Duration.ofMillis(100)).listener(events));
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            cost[0] = Duration.ofMillis(2).toNanos();
            for (int i = 0; i < 20; i++) {
                s.execute("SELECT fast FROM t WHERE id = " + i);
            }
            cost[0] = Duration.ofMillis(250).toNanos();
            s.execute("SELECT slow FROM reports WHERE guild_id = 12345");
            cost[0] = Duration.ofMillis(50).toNanos();
            s.execute("SELECT medium FROM t");
        }
        assertThat(events.of(PoolEvent.SlowStatement.class)).singleElement().satisfies(e -> {
            assertThat(e.fingerprint()).isEqualTo("SELECT slow FROM reports WHERE guild_id = ?");
            assertThat(e.elapsed()).isEqualTo(Duration.ofMillis(250));
            assertThat(e.threshold()).isEqualTo(Duration.ofMillis(100));
        });
        List<StatementStats> top = stats.topSlowest(2);
        assertThat(top).extracting(StatementStats::fingerprint)
                .containsExactly("SELECT slow FROM reports WHERE guild_id = ?", "SELECT medium FROM t");
        StatementStats fast = find(stats, "SELECT fast FROM t WHERE id = ?");
        assertThat(fast.calls()).isEqualTo(20);
        assertThat(fast.mean()).isEqualTo(Duration.ofMillis(2));
        assertThat(fast.max()).isEqualTo(Duration.ofMillis(2));
        assertThat(fast.p95()).isEqualTo(Duration.ofMillis(2)); // capped at max
        assertThat(fast.total()).isEqualTo(Duration.ofMillis(40));
    }

    @Test
    void p95ComesFromTheHistogramWithinItsBucket() {
        SqlStatistics stats = new SqlStatistics(10);
        SqlStatistics.Statement s = stats.statement("SELECT 1");
        for (int i = 1; i <= 100; i++) {
            s.record(Duration.ofMillis(i).toNanos(), 0, false);
        }
        StatementStats st = stats.snapshot().get(0);
        assertThat(st.p95().toNanos()).isBetween(Duration.ofMillis(95).toNanos(), Duration.ofMillis(95 * 6 / 5).toNanos());
        assertThat(st.max()).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void fingerprintsAreBoundedAndTheRestCountAsOther() {
        SqlStatistics stats = new SqlStatistics(3);
        for (String table : List.of("a", "b", "c", "d", "e")) {
            stats.statement("SELECT x FROM " + table + " WHERE id = 1").record(1_000, 0, false);
        }
        assertThat(stats.snapshot()).hasSize(4).last().satisfies(o -> {
            assertThat(o.fingerprint()).isEqualTo("(other)");
            assertThat(o.calls()).isEqualTo(2);
        });
        SqlStatistics.Statement kept = stats.statement("SELECT x FROM a WHERE id = 9");
        stats.reset();
        assertThat(stats.snapshot()).isEmpty();
        kept.record(2_000, 1, false); // a statement prepared before the reset still counts
        assertThat(stats.snapshot()).singleElement().satisfies(st -> {
            assertThat(st.fingerprint()).isEqualTo("SELECT x FROM a WHERE id = ?");
            assertThat(st.calls()).isEqualTo(1);
        });
    }

    @Test
    void offByDefault() throws Exception {
        ds = new FerryDataSource(FerryConfig.builder().jdbcUrl("jdbc:h2:mem:sqlstats-off").maximumPoolSize(1).build());
        assertThat(ds.unwrap(FerryPool.class).sqlStatistics()).isEmpty();
        assertThatThrownBy(() -> FerryConfig.builder().jdbcUrl("jdbc:h2:mem:x")
                .slowStatementThreshold(Duration.ofMillis(-1)).build())
                .hasMessageContaining("slowStatementThreshold: got -1ms");
    }
}
