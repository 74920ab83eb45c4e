package dev.ferry.ha;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;

/**
 * How stale a PostgreSQL streaming replica's reads may be, read on the replica itself. Zero while its WAL
 * receiver is streaming and it has replayed all it received. Otherwise the time since the last transaction it
 * replayed ({@code clock_timestamp() - pg_last_xact_replay_timestamp()}, or since the server started if it has
 * replayed none). When it is behind, or not streaming (cut off from the primary, or not yet connected), that is
 * an upper bound, not an exact lag: when the primary has written no commit for a while, it reads high, never low.
 * Empty on a primary.
 *
 * <p>{@link ReadRouter} uses it for {@code maxReplicationLag}; it bans a replica only after two readings above the
 * limit, since one may fall in the moment a replica replays WAL that holds no commit.
 */
public final class ReplicationLag {

    private static final String QUERY = "SELECT pg_is_in_recovery(), "
            + "COALESCE((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false) "
            + "AND pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), "
            + "EXTRACT(EPOCH FROM clock_timestamp() - COALESCE(pg_last_xact_replay_timestamp(), "
            + "pg_postmaster_start_time())) * 1000";

    private ReplicationLag() {
    }

    /** The replica's lag (see the class notes); empty if the connection is to a primary. */
    public static Optional<Duration> of(Connection connection) throws SQLException {
        return of(connection, 0);
    }

    /** As {@link #of(Connection)}, the query bounded by {@code timeoutSeconds} (0: no bound). */
    public static Optional<Duration> of(Connection connection, int timeoutSeconds) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.setQueryTimeout(timeoutSeconds);
            try (ResultSet rs = s.executeQuery(QUERY)) {
                return read(rs);
            }
        }
    }

    private static Optional<Duration> read(ResultSet rs) throws SQLException {
        rs.next();
        if (!rs.getBoolean(1)) {
            return Optional.empty();
        }
        if (rs.getBoolean(2)) {
            return Optional.of(Duration.ZERO); // streaming, and all it received is replayed
        }
        return Optional.of(Duration.ofMillis(Math.max(0, Math.round(rs.getDouble(3)))));
    }
}
