package dev.ferry.ha;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;

/**
 * How far a PostgreSQL streaming replica is behind, from the replica itself: the time since the last transaction
 * it replayed ({@code now() - pg_last_xact_replay_timestamp()}), counted as zero when it has replayed everything it
 * received (an idle primary sends nothing, so the timestamp ages without any lag). Empty on a primary.
 *
 * <p>Status: issue 12's first step; the routing that skips a replica above a lag limit is not built yet.
 */
public final class ReplicationLag {

    private static final String QUERY = "SELECT pg_is_in_recovery(), "
            + "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
            + "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000, 0) END";

    private ReplicationLag() {
    }

    /** The replica's lag; empty if the connection is to a primary. */
    public static Optional<Duration> of(Connection connection) throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(QUERY)) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return Optional.empty();
            }
            return Optional.of(Duration.ofMillis(Math.max(0, Math.round(rs.getDouble(2)))));
        }
    }
}
