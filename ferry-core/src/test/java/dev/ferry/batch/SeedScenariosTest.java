package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.FerryDataSource;
import dev.ferry.Postgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The seeds' concrete cases on PostgreSQL, end to end through a FerryDataSource: user, team and player-stat
 * lookups from many concurrent requests; a token save with its audit-log row in one transaction; activity
 * ingest from many concurrent writers.
 */
class SeedScenariosTest {

    record Team(long id, String name) {
    }

    record PlayerStat(long playerId, String stat, int value) {
    }

    record Activity(long userId, String action) {
    }

    private FerryDataSource ds;

    @BeforeEach
    void setUp() throws SQLException {
        ds = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("seeds")).maximumPoolSize(4).build());
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS seed_stats, seed_teams, seed_tokens, seed_audit, seed_activity");
            s.execute("CREATE TABLE seed_teams (id BIGINT PRIMARY KEY, name TEXT NOT NULL)");
            s.execute("CREATE TABLE seed_stats (player_id BIGINT NOT NULL, stat TEXT NOT NULL, value INT NOT NULL)");
            s.execute("CREATE TABLE seed_tokens (user_id BIGINT PRIMARY KEY, token TEXT NOT NULL)");
            s.execute("CREATE TABLE seed_audit (id SERIAL PRIMARY KEY, user_id BIGINT NOT NULL, action TEXT NOT NULL)");
            s.execute("CREATE TABLE seed_activity (id SERIAL PRIMARY KEY, user_id BIGINT NOT NULL, action TEXT)");
            s.execute("INSERT INTO seed_teams SELECT g, 'team-' || g FROM generate_series(1, 200) g");
            s.execute("INSERT INTO seed_stats SELECT p, s, p * 10 + length(s) FROM generate_series(1, 500) p, "
                    + "unnest(ARRAY['goals', 'assists', 'minutes']) s");
        }
    }

    @AfterEach
    void tearDown() {
        ds.close();
    }

    @Test
    void teamAndPlayerStatLookupsFromManyRequestsAreBatched() throws Exception {
        try (BatchedLookup<Long, Team> teams = ds.<Long, Team>batchedLookup(Long.class)
                .sql("SELECT id, name FROM seed_teams WHERE id IN (:keys)")
                .key(rs -> rs.getLong("id")).row(rs -> new Team(rs.getLong("id"), rs.getString("name"))).build();
             BatchedLookup<Long, PlayerStat> stats = ds.<Long, PlayerStat>batchedLookup(Long.class)
                     .sql("SELECT player_id, stat, value FROM seed_stats WHERE player_id IN (:keys) ORDER BY stat")
                     .key(rs -> rs.getLong("player_id"))
                     .row(rs -> new PlayerStat(rs.getLong(1), rs.getString(2), rs.getInt(3))).build()) {
            List<CompletableFuture<Optional<Team>>> teamResults = new ArrayList<>();
            List<CompletableFuture<List<PlayerStat>>> statResults = new ArrayList<>();
            for (long i = 1; i <= 500; i++) {
                teamResults.add(teams.load(i % 200 + 1));
                statResults.add(stats.loadAll(i));
            }
            for (int i = 0; i < 500; i++) {
                long team = (i + 1) % 200 + 1;
                assertThat(teamResults.get(i).get(30, TimeUnit.SECONDS)).contains(new Team(team, "team-" + team));
                long player = i + 1;
                assertThat(statResults.get(i).get(30, TimeUnit.SECONDS)).containsExactly(
                        new PlayerStat(player, "assists", (int) player * 10 + 7),
                        new PlayerStat(player, "goals", (int) player * 10 + 5),
                        new PlayerStat(player, "minutes", (int) player * 10 + 7));
            }
            assertThat(teams.stats().batches()).isLessThan(500);
            assertThat(stats.stats().batches()).isLessThan(500);
        }
    }

    @Test
    void tokenSaveAndAuditLogCommitTogether() throws Exception {
        List<Integer> counts = TransactionBatch.of(
                TransactionBatch.statement("INSERT INTO seed_tokens VALUES (?, ?) ON CONFLICT (user_id) "
                        + "DO UPDATE SET token = EXCLUDED.token", 7L, "tok-1"),
                TransactionBatch.statement("INSERT INTO seed_audit (user_id, action) VALUES (?, ?)", 7L, "token-saved"))
                .execute(ds);
        assertThat(counts).containsExactly(1, 1);
        assertThat(scalar("SELECT token FROM seed_tokens WHERE user_id = 7")).isEqualTo("tok-1");
        assertThat(scalar("SELECT action FROM seed_audit WHERE user_id = 7")).isEqualTo("token-saved");
    }

    @Test
    void activityIngestFromManyWritersIsAcknowledgedAfterCommit() throws Exception {
        try (BatchedWriter<Activity> ingest = ds.<Activity>batchedWriter()
                .sql("INSERT INTO seed_activity (user_id, action) VALUES (?, ?)")
                .bind((ps, a) -> {
                    ps.setLong(1, a.userId());
                    ps.setString(2, a.action());
                }).build()) {
            List<CompletableFuture<Integer>> acks = new ArrayList<>();
            for (long u = 1; u <= 2_000; u++) {
                acks.add(ingest.submit(new Activity(u, "page-view")));
            }
            for (CompletableFuture<Integer> ack : acks) {
                assertThat(ack.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            }
            assertThat(scalar("SELECT count(*) FROM seed_activity")).isEqualTo("2000");
            assertThat(ingest.stats().batches()).as("transactions for 2,000 rows").isLessThan(200);
        }
    }

    private String scalar(String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
