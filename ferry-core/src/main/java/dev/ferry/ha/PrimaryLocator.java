package dev.ferry.ha;

import dev.ferry.FerryConfig;
import dev.ferry.Ticker;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Finds the PostgreSQL primary among a pool's hosts (its {@code jdbcUrl} and its replicas) for the connections it
 * writes on: failover. Ferry does not promote anything; a promotion is the cluster manager's (Patroni, repmgr, an
 * operator running {@code pg_ctl promote}). Ferry notices it and follows.
 *
 * <p><b>Sticky.</b> Every new physical connection of the writing pool goes to the host known as the primary, and is
 * checked with {@code pg_is_in_recovery()} before it is used. Only when that host cannot be reached (a connection
 * error: SQLState class 08, 57P01-57P03, or a recoverable or connection exception) or answers that it is in
 * recovery (it was demoted) are the others probed, one connection each, in configuration order starting after it;
 * the first one not in recovery and of the same cluster becomes the primary. Any other error (a wrong password, too
 * many clients, a missing database) is the caller's, unchanged, and moves nothing. A host is never left while it
 * works as a primary, so an old primary that comes back as a primary beside the promoted one (split brain) does not
 * draw writes back to itself; new connections keep going to the promoted one until it fails.
 *
 * <p><b>Same cluster.</b> The system identifier ({@code pg_control_system()}) of the first primary reached is
 * kept; a host with another one (a logical-replication subscriber, another cluster listed by mistake) is never
 * taken as the primary. Where the identifier cannot be read, only the role is checked.
 *
 * <p><b>Time limits.</b> The role check runs under a network timeout and a query timeout of roleCheckTimeout; a
 * connector waits for another's probe at most {@code waitLimit} (connectionTimeout) and then fails.
 *
 * <p><b>One probe at a time.</b> Connectors that find the primary gone probe under one lock, in turn; a connector
 * that got the lock after another switched the primary first tries the new primary. A connection made to a host
 * that stopped being the primary while it was being made is closed and made again. The lock is a
 * {@link ReentrantLock} (blocking I/O under it does not pin a virtual thread's carrier), and the listener is called
 * after it is released.
 *
 * <p><b>The outage.</b> From the first failure to reach the primary (or to find it a primary) to the first
 * connection to the new one, on the injected {@link Ticker}; reported to the listener with the switch.
 */
public final class PrimaryLocator {

    /** Opens a raw connection to one host. */
    @FunctionalInterface
    public interface Connector {
        Connection connect(String jdbcUrl) throws SQLException;
    }

    /** Told, outside the locator's lock, when writes move to another host. */
    @FunctionalInterface
    public interface Listener {
        void primaryChanged(String fromHost, String toHost, Duration outage);
    }

    private static final long NOT_FAILING = Long.MIN_VALUE;
    private static final java.util.concurrent.Executor DIRECT = Runnable::run;

    private final String poolName;
    private final List<String> urls;
    private final Ticker ticker;
    private final int roleCheckTimeoutSeconds;
    private final int roleCheckTimeoutMillis;
    private final long waitLimitNanos;
    private final Listener listener;
    private final ReentrantLock probing = new ReentrantLock();
    private volatile int current;
    /** When the present primary was first found unreachable (ticker reading), or NOT_FAILING. */
    private volatile long failingSince = NOT_FAILING;
    /** The cluster's system identifier, once read on a primary; null until then, or where it cannot be read. */
    private volatile String cluster;

    /**
     * @param urls             the hosts, the one assumed to be the primary first (duplicates are dropped)
     * @param roleCheckTimeout bound of the {@code pg_is_in_recovery()} check (network and query timeout)
     * @param waitLimit        the longest a connector waits for another's probe (zero: no limit)
     */
    public PrimaryLocator(String poolName, List<String> urls, Ticker ticker, Duration roleCheckTimeout,
            Duration waitLimit, Listener listener) {
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("urls: got none; allowed: at least one host");
        }
        this.poolName = poolName;
        this.urls = List.copyOf(new java.util.LinkedHashSet<>(urls));
        this.ticker = ticker;
        this.roleCheckTimeoutSeconds = (int) Math.max(1, Math.min(Integer.MAX_VALUE, roleCheckTimeout.toSeconds()));
        this.roleCheckTimeoutMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, roleCheckTimeout.toMillis()));
        this.waitLimitNanos = waitLimit.isZero() ? Long.MAX_VALUE : waitLimit.toNanos();
        this.listener = listener;
    }

    /** The host writes go to now, its password masked. */
    public String primary() {
        return FerryConfig.maskUrl(urls.get(current));
    }

    /** A connection to the primary, found again among the hosts if the known one is gone or was demoted. */
    public Connection connect(Connector connector) throws SQLException {
        for (int attempt = 0; ; attempt++) {
            int tried = current;
            SQLException failure;
            try {
                Connection c = connector.connect(urls.get(tried));
                failure = notPrimary(c);
                if (failure == null) {
                    if (tried != current && attempt < 3) {
                        closeQuietly(c); // another connector switched meanwhile: this one would go to the old host
                        continue;
                    }
                    failingSince = NOT_FAILING;
                    return c;
                }
            } catch (SQLException e) {
                if (!unreachable(e)) {
                    throw e; // the host answered: a wrong password, too many clients... not a failover's business
                }
                failure = e;
            }
            if (failingSince == NOT_FAILING) {
                failingSince = ticker.read(); // a benign race: two connectors may both set it, a moment apart
            }
            return probe(connector, tried, failure);
        }
    }

    /**
     * Whether an error says the host or the session is gone (a connection error: SQLState class 08, 57P01-57P03,
     * or JDBC's connection exception classes), rather than that the server refused one request. The pool uses
     * the same test for a lent connection found broken.
     */
    public static boolean unreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLRecoverableException || t instanceof java.sql.SQLNonTransientConnectionException
                    || t instanceof java.sql.SQLTransientConnectionException) {
                return true;
            }
            if (t instanceof SQLException s && s.getSQLState() != null) {
                String state = s.getSQLState();
                if (state.startsWith("08") || state.equals("57P01") || state.equals("57P02")
                        || state.equals("57P03")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Probes the hosts in turn, the one just tried last; the first that is a primary becomes the primary. */
    private Connection probe(Connector connector, int failed, SQLException failure) throws SQLException {
        StringBuilder why = new StringBuilder();
        why.append(FerryConfig.maskUrl(urls.get(failed))).append(": ").append(describe(failure));
        String from = null;
        String to = null;
        Duration outage = null;
        Connection found = null;
        try {
            if (!probing.tryLock(waitLimitNanos, java.util.concurrent.TimeUnit.NANOSECONDS)) {
                throw new SQLException(poolName + " - gave up waiting for another connector's search for the "
                        + "primary (" + why + ")", "08001", failure);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException(poolName + " - interrupted while waiting to find the primary", "08001", e);
        }
        try {
            int n = urls.size();
            int[] order = new int[n];
            int count = 0;
            int start = current; // another connector may have switched it meanwhile: that host first
            if (start != failed) {
                order[count++] = start;
            }
            for (int k = 1; k < n; k++) { // then the others after the one that failed, which is not tried again
                int i = (failed + k) % n;
                if (i != start) {
                    order[count++] = i;
                }
            }
            for (int j = 0; j < count && found == null; j++) {
                int i = order[j];
                try {
                    Connection c = connector.connect(urls.get(i));
                    SQLException not = notPrimary(c);
                    if (not == null) {
                        found = c;
                        if (i != current) {
                            from = FerryConfig.maskUrl(urls.get(current));
                            to = FerryConfig.maskUrl(urls.get(i));
                            long since = failingSince;
                            outage = Duration.ofNanos(since == NOT_FAILING ? 0 : Math.max(0, ticker.read() - since));
                            current = i;
                        }
                        failingSince = NOT_FAILING;
                    } else {
                        why.append("; ").append(FerryConfig.maskUrl(urls.get(i))).append(": ").append(not.getMessage());
                    }
                } catch (SQLException e) {
                    why.append("; ").append(FerryConfig.maskUrl(urls.get(i))).append(": ").append(describe(e));
                }
            }
        } finally {
            probing.unlock();
        }
        if (found != null) {
            if (from != null && listener != null) {
                listener.primaryChanged(from, to, outage);
            }
            return found;
        }
        throw new SQLException(poolName + " - no primary among " + urls.size() + " hosts (" + why
                + "); writes wait for one to be promoted, within connectionTimeout",
                unreachable(failure) && failure.getSQLState() != null ? failure.getSQLState() : "08001", failure);
    }

    /**
     * Null if the connection is to a primary of this cluster; else the reason it is not (and the connection is
     * closed). The check runs under a network timeout, so a host that stops answering after login cannot hold it.
     * An error of the check that does not say the host is unreachable is thrown, after closing the connection.
     */
    private SQLException notPrimary(Connection c) throws SQLException {
        int before = -1;
        try {
            try {
                before = c.getNetworkTimeout();
                c.setNetworkTimeout(DIRECT, roleCheckTimeoutMillis);
            } catch (SQLException | RuntimeException | LinkageError unsupported) {
                before = -1; // a driver without network timeouts: the query timeout still applies
            }
            boolean inRecovery;
            String identifier = null;
            try (Statement s = c.createStatement()) {
                s.setQueryTimeout(roleCheckTimeoutSeconds);
                try (ResultSet rs = s.executeQuery(
                        "SELECT pg_is_in_recovery(), (SELECT system_identifier FROM pg_control_system())::text")) {
                    rs.next();
                    inRecovery = rs.getBoolean(1);
                    identifier = rs.getString(2);
                } catch (SQLException e) {
                    if (unreachable(e)) {
                        throw e;
                    }
                    // pg_control_system() not permitted or missing: the role alone
                    try (ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                        rs.next();
                        inRecovery = rs.getBoolean(1);
                    }
                }
            }
            if (before >= 0) {
                c.setNetworkTimeout(DIRECT, before);
            }
            if (inRecovery) {
                closeQuietly(c);
                return new SQLException("in recovery (a replica, not the primary)", "25006");
            }
            String known = cluster;
            if (identifier != null && known != null && !known.equals(identifier)) {
                closeQuietly(c);
                return new SQLException("a primary of another cluster (system identifier " + identifier
                        + ", expected " + known + "): never taken for this one", "08004");
            }
            if (identifier != null && known == null) {
                cluster = identifier;
            }
            return null;
        } catch (SQLException e) {
            closeQuietly(c);
            if (unreachable(e)) {
                return new SQLException("role check failed: " + describe(e), e.getSQLState(), e);
            }
            throw e;
        } catch (RuntimeException | Error e) {
            closeQuietly(c);
            throw e;
        }
    }

    private static String describe(SQLException e) {
        String m = e.getMessage();
        return (m == null ? e.getClass().getSimpleName() : m) + (e.getSQLState() == null ? ""
                : " (SQLState " + e.getSQLState() + ")");
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException | RuntimeException ignored) {
            // a connection we refuse; its errors do not matter
        }
    }
}
