package dev.ferry.capacity;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * This pool's fair share of a PostgreSQL server's connections, so that many instances of one application, once
 * their caps agree, do not together exhaust the server ({@code FATAL: sorry, too many clients already}).
 *
 * <h2>Design notes</h2>
 *
 * <p>Read from the server, on one of the pool's own connections:
 * <ul>
 *   <li><b>limit</b> = {@code max_connections - superuser_reserved_connections - reserved_connections}
 *       (the last is PostgreSQL 16's, 0 before): the slots ordinary roles may use;
 *   <li><b>foreign</b>: client sessions of other applications (another {@code application_name}), which this
 *       application's instances must leave alone;
 *   <li><b>peers</b>: client sessions with this connection's {@code application_name} beyond the ones this
 *       pool has open: other instances of the same application;
 *   <li><b>instances</b> = {@code 1 + ceil(peers / perInstance)}, where {@code perInstance} is this instance's
 *       own current cap (maximumPoolSize before the first read): peers are assumed to be configured and capped
 *       like this one, so each holds at most that many sessions (fewer open sessions count as one instance);
 *   <li><b>cap</b> = {@code floor((limit - foreign) / instances)}, at least 1 and at most maximumPoolSize.
 * </ul>
 * Sessions are counted from {@code pg_stat_activity} (client backends; see {@link #QUERY} for other roles'). The
 * count is a moment's view, re-read each sizing period; as the instances' caps come down, {@code perInstance}
 * comes down with them and the instance count rises, until the caps agree (four instances of 50 on a limit of
 * 100: 25 each is where their caps agree). Clients that do not set an application name share their driver's default (pgjdbc's is
 * "PostgreSQL JDBC Driver"), so unrelated applications left at the default count each other as peers.
 */
public record ServerShare(int limit, int foreign, int peers, int instances, int cap) {

    /**
     * Sessions of other roles show a null {@code backend_type} (and may show a null application name) to a role
     * without {@code pg_read_all_stats}: they are counted, as other applications' sessions. Background workers
     * of other roles may then be counted too, which only lowers the cap.
     */
    static final String QUERY = "select current_setting('max_connections')::int"
            + " - current_setting('superuser_reserved_connections')::int"
            + " - coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0),"
            + " count(*) filter (where application_name is distinct from current_setting('application_name')),"
            + " count(*) filter (where application_name = current_setting('application_name'))"
            + " from pg_stat_activity where coalesce(backend_type, 'client backend') = 'client backend'";

    /**
     * Reads the server's numbers on {@code connection} (one of this pool's).
     *
     * @param ownOpen         sessions this pool has open now (its own, reserve included, not peers')
     * @param maximumPoolSize this pool's budget
     * @param perInstance     the most sessions a peer is assumed to hold (this instance's current cap)
     * @param timeoutSeconds  the query's timeout
     */
    public static ServerShare read(Connection connection, int ownOpen, int maximumPoolSize, int perInstance,
                                   int timeoutSeconds) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.setQueryTimeout(timeoutSeconds);
            ResultSet rs = s.executeQuery(QUERY);
            rs.next();
            return of(rs.getInt(1), rs.getInt(2), rs.getInt(3), ownOpen, maximumPoolSize, perInstance);
        }
    }

    /** The share from the server's numbers: see the class notes. */
    public static ServerShare of(int limit, int foreign, int sameName, int ownOpen, int maximumPoolSize,
                                 int perInstance) {
        int peers = Math.max(0, sameName - ownOpen);
        int each = Math.max(1, Math.min(maximumPoolSize, perInstance));
        int instances = 1 + (peers + each - 1) / each;
        int cap = Math.max(1, Math.min(maximumPoolSize, (limit - foreign) / instances));
        return new ServerShare(limit, foreign, peers, instances, cap);
    }

    @Override
    public String toString() {
        return "cap " + cap + " (limit " + limit + ", other applications " + foreign + ", peer sessions " + peers
                + ", instances " + instances + ")";
    }
}
