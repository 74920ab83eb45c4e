package dev.ferry.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.abort;

import dev.ferry.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Replication lag read on a real streaming replica ({@code .ci/pg-replica} makes one on 127.0.0.1:5433;
 * {@code FERRY_TEST_PG_REPLICA_URL} overrides it): none while it keeps up, growing while replay is paused with
 * {@code pg_wal_replay_pause()}, none again once it resumes. Without a replica the test is skipped, or fails with
 * {@code CI=true}.
 */
class PostgresReplicationLagTest {

    static String replicaUrl() {
        String url = System.getenv().getOrDefault("FERRY_TEST_PG_REPLICA_URL",
                "jdbc:postgresql://127.0.0.1:5433/test?user=postgres");
        try (Connection c = DriverManager.getConnection(url)) {
            c.isValid(2);
        } catch (SQLException e) {
            String message = "no PostgreSQL replica at " + url + " (.ci/pg-replica makes one): " + e.getMessage();
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(message + " (CI=true: missing is a failure)", e);
            }
            abort(message);
        }
        return url;
    }

    @Test
    void lagIsZeroWhileTheReplicaKeepsUpAndGrowsWhileReplayIsPaused() throws Exception {
        String replica = replicaUrl();
        try (Connection primary = Postgres.admin(); Connection standby = DriverManager.getConnection(replica);
             Statement p = primary.createStatement(); Statement s = standby.createStatement()) {
            s.execute("SELECT pg_wal_replay_resume()"); // in case an earlier run died while it was paused
            assertThat(ReplicationLag.of(primary)).as("a primary has no lag").isEmpty();
            p.execute("CREATE TABLE IF NOT EXISTS ferry_lag_probe (id bigint PRIMARY KEY, at timestamptz)");
            p.execute("TRUNCATE ferry_lag_probe");
            p.execute("INSERT INTO ferry_lag_probe VALUES (1, now())");
            // The table itself may not be replayed yet: "relation does not exist" means keep waiting.
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> rows(s) == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> ReplicationLag.of(standby).orElseThrow().isZero());
            s.execute("SELECT pg_wal_replay_pause()");
            try {
                p.execute("INSERT INTO ferry_lag_probe VALUES (2, now())");
                await().atMost(Duration.ofSeconds(15)).until(() ->
                        ReplicationLag.of(standby).orElseThrow().compareTo(Duration.ofSeconds(1)) >= 0);
                assertThat(rows(s)).as("replay is paused: the second row is not there").isEqualTo(1);
            } finally {
                s.execute("SELECT pg_wal_replay_resume()");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> rows(s) == 2);
            await().atMost(Duration.ofSeconds(10)).until(() -> ReplicationLag.of(standby).orElseThrow().isZero());
        } finally {
            try (Connection primary = Postgres.admin(); Statement p = primary.createStatement()) {
                p.execute("DROP TABLE IF EXISTS ferry_lag_probe");
            }
        }
    }

    private static int rows(Statement s) throws SQLException {
        try (var rs = s.executeQuery("SELECT count(*) FROM ferry_lag_probe")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
