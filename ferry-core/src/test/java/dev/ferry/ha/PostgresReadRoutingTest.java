package dev.ferry.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.FakeTicker;
import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import dev.ferry.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Read routing on a real primary and streaming replica ({@code .ci/pg-replica}): reads go to the replica and
 * writes to the primary; a replica that is down, or too far behind, is banned and reads go to the primary until
 * the ban ends.
 */
class PostgresReadRoutingTest {

    private static boolean onReplica(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            assertThat(c.isReadOnly()).isTrue();
            return rs.getBoolean(1);
        }
    }

    @ParameterizedTest(name = "minimumIdle={0}, autoCommit={1}")
    @org.junit.jupiter.params.provider.CsvSource({"0, true", "1, true", "0, false"})
    void readsGoToTheReplicaAndWritesToThePrimary(int minimumIdle, boolean autoCommit) throws Exception {
        String replica = PostgresReplicationLagTest.replicaUrl();
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(Postgres.url()).replica(replica)
                .maximumPoolSize(4).minimumIdle(minimumIdle).autoCommit(autoCommit)
                .maxReplicationLag(Duration.ofSeconds(30)) // the lag check runs, and must not get in the way
                .connectionTimeout(Duration.ofSeconds(10)).build())) {
            for (int i = 0; i < 5; i++) {
                assertThat(onReplica(ds.reads())).isTrue();
            }
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("plain borrows go to the primary").isFalse();
            }
            HostHealth.Host host = ds.readRouter().orElseThrow().replicaHosts().get(0);
            assertThat(ds.readRouter().orElseThrow().health().isBanned(host)).isFalse();
        }
    }

    @Test
    void aReplicaThatIsDownIsBannedAndTriedAgainAfterBanTime() throws Exception {
        FakeTicker ticker = new FakeTicker();
        dev.ferry.RecordingListener events = new dev.ferry.RecordingListener();
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(Postgres.url()).listener(events)
                .replica("jdbc:postgresql://127.0.0.1:1/test?user=postgres&connectTimeout=1")
                .maximumPoolSize(2).minimumIdle(0).connectionTimeout(Duration.ofMillis(500))
                .banTime(Duration.ofSeconds(30)).ticker(ticker).build())) {
            assertThat(onReplica(ds.reads())).as("falls back to the primary").isFalse();
            ReadRouter router = ds.readRouter().orElseThrow();
            HostHealth.Host down = router.replicaHosts().get(0);
            assertThat(router.health().isBanned(down)).isTrue();
            long tried = router.attempts(down);
            assertThat(onReplica(ds.reads())).isFalse();
            assertThat(router.attempts(down)).as("banned: not tried again").isEqualTo(tried);
            ticker.advance(Duration.ofSeconds(30));
            assertThat(router.health().isBanned(down)).as("the ban has ended").isFalse();
            assertThat(onReplica(ds.reads())).isFalse();
            assertThat(router.attempts(down)).as("tried again").isEqualTo(tried + 1);
            assertThat(router.health().isBanned(down)).as("failed, banned again").isTrue();
            assertThat(events.events).filteredOn(e -> e instanceof dev.ferry.PoolEvent.ReplicaBanned
                            || e instanceof dev.ferry.PoolEvent.ReplicaUnbanned)
                    .extracting(e -> e.getClass().getSimpleName())
                    .containsExactly("ReplicaBanned", "ReplicaUnbanned", "ReplicaBanned");
            assertThat(events.of(dev.ferry.PoolEvent.ReplicaBanned.class)).allSatisfy(e -> {
                assertThat(e.replica()).isEqualTo("jdbc:postgresql://127.0.0.1:1/test?user=postgres&connectTimeout=1");
                assertThat(e.banTime()).isEqualTo(Duration.ofSeconds(30));
                assertThat(e.reason()).isNotBlank();
            });
        }
    }

    @Test
    void aReplicaTooFarBehindIsLeftOutUntilItCatchesUp() throws Exception {
        String replica = PostgresReplicationLagTest.replicaUrl();
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(Postgres.url()).replica(replica)
                .maximumPoolSize(2).minimumIdle(0).connectionTimeout(Duration.ofSeconds(10))
                .maxReplicationLag(Duration.ofMillis(300)).banTime(Duration.ofSeconds(3)).build());
             Connection primary = Postgres.admin(); Connection standby = DriverManager.getConnection(replica);
             Statement p = primary.createStatement(); Statement s = standby.createStatement()) {
            s.execute("SELECT pg_wal_replay_resume()");
            assertThat(onReplica(ds.reads())).isTrue();
            p.execute("CREATE TABLE IF NOT EXISTS ferry_route_probe (id bigint)");
            s.execute("SELECT pg_wal_replay_pause()");
            try {
                p.execute("INSERT INTO ferry_route_probe VALUES (1)");
                ReadRouter router = ds.readRouter().orElseThrow();
                HostHealth.Host host = router.replicaHosts().get(0);
                // Two readings above the limit (a second apart) ban it; meanwhile reads go to the primary.
                await().atMost(Duration.ofSeconds(15)).until(() -> !onReplica(ds.reads())
                        && router.health().banReason(host) != null);
                assertThat(router.health().banReason(host)).contains("replication lag");
            } finally {
                s.execute("SELECT pg_wal_replay_resume()");
            }
            await().atMost(Duration.ofSeconds(15)).until(() -> onReplica(ds.reads()));
        } finally {
            try (Connection c = Postgres.admin(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS ferry_route_probe");
            }
        }
    }

    @ParameterizedTest(name = "minimumIdle={0}, autoCommit={1}")
    @org.junit.jupiter.params.provider.CsvSource({"0, true", "1, false"})
    void batchedLookupsOnReadsRunOnTheReplica(int minimumIdle, boolean autoCommit) throws Exception {
        String replica = PostgresReplicationLagTest.replicaUrl();
        try (Connection primary = Postgres.admin(); Statement p = primary.createStatement()) {
            p.execute("CREATE TABLE IF NOT EXISTS ferry_route_items (id bigint PRIMARY KEY)");
            p.execute("INSERT INTO ferry_route_items SELECT g FROM generate_series(1, 50) g ON CONFLICT DO NOTHING");
        }
        try (Connection standby = DriverManager.getConnection(replica); Statement s = standby.createStatement()) {
            s.execute("SELECT pg_wal_replay_resume()");
            await().atMost(Duration.ofSeconds(15)).until(() -> {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM ferry_route_items")) {
                    return rs.next() && rs.getInt(1) == 50;
                } catch (SQLException e) {
                    return false; // not replayed yet
                }
            });
        }
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(Postgres.url()).replica(replica)
                .maximumPoolSize(3).minimumIdle(minimumIdle).autoCommit(autoCommit)
                .connectionTimeout(Duration.ofSeconds(10)).build());
             dev.ferry.batch.BatchedLookup<Long, Boolean> onStandby = dev.ferry.batch.BatchedLookup
                     .<Long, Boolean>builder(ds.reads(), Long.class).name("route-items")
                     .sql("SELECT id, pg_is_in_recovery() AS standby FROM ferry_route_items WHERE id IN (:keys)")
                     .key(rs -> rs.getLong("id")).row(rs -> rs.getBoolean("standby")).build()) {
            java.util.List<java.util.concurrent.CompletableFuture<java.util.Optional<Boolean>>> answers =
                    new java.util.ArrayList<>();
            for (long id = 1; id <= 50; id++) {
                answers.add(onStandby.load(id));
            }
            for (var answer : answers) {
                assertThat(answer.get(10, java.util.concurrent.TimeUnit.SECONDS)).as("found, and read on the replica")
                        .contains(true);
            }
            assertThat(onStandby.stats().executions()).as("batched").isLessThan(50);
            assertThat(ds.readRouter().orElseThrow().attempts(ds.readRouter().orElseThrow().replicaHosts().get(0)))
                    .isPositive();
        }
    }
}
