package dev.ferry.ha;

import dev.ferry.FerryConfig;
import dev.ferry.Priority;
import dev.ferry.Ticker;
import dev.ferry.pool.ConnectionPool;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Sends reads to the replicas of {@link FerryConfig#replicas()}: each replica has a pool of its own (the primary's
 * settings, its own {@code maximumPoolSize}: one budget per host, by design, see docs/ha.md); a read borrows from
 * the usable replica with the fewest connections lent ({@link HostHealth}), waits for it at most a second (or half
 * of the caller's time if shorter), and falls back to the primary when the replica fails, is busy or is too far
 * behind. The primary gets the rest of the caller's time: at least half of connectionTimeout for a plain read, and
 * exactly what is left for a read given a {@code maxWait} (a batch, whose callers' deadlines come first). While
 * every replica is banned, reads go to the primary. Connections handed out are read-only.
 *
 * <p>A replica is banned only when it is unwell: a connection error, or (with {@code maxReplicationLag}) a lag
 * above the limit on two readings in a row. A busy replica (its pool exhausted) is passed over for that read, not
 * banned. Bans and their ends are raised as {@link dev.ferry.PoolEvent.ReplicaBanned} and
 * {@link dev.ferry.PoolEvent.ReplicaUnbanned} to the pool's listeners (an end is noticed at the next read). Lag is
 * read on a replica connection about to be lent, at most once a second per replica, with a query timeout of the
 * replica's share of the caller's time in whole seconds, and not when that share is under a second (the last
 * readings, and any ban, still apply). An interrupted caller gets its interrupt, not a fallback.
 */
public final class ReadRouter implements AutoCloseable {

    private static final long LAG_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long MAX_REPLICA_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String poolName;
    private final Supplier<ConnectionPool> primary;
    private final HostHealth health;
    private final HostHealth.Host primaryHost;
    private final Map<HostHealth.Host, ConnectionPool> replicas = new LinkedHashMap<>(); // read-only after construction
    private final Map<HostHealth.Host, Long> lagCheckedAt = new ConcurrentHashMap<>();
    private final Map<HostHealth.Host, java.util.concurrent.atomic.LongAdder> attempts = new ConcurrentHashMap<>();
    /** Lag readings above the limit in a row, per replica. */
    private final Map<HostHealth.Host, Integer> lagStreak = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** Replicas whose ban was reported and whose end has not been yet. */
    private final java.util.Set<HostHealth.Host> reportedBanned = ConcurrentHashMap.newKeySet();
    private final Duration banTime;
    private final long maxLagNanos;
    private final Ticker ticker;

    /** Starts a pool per replica (without checking the replica: it may be down now and come back). */
    public ReadRouter(FerryConfig config, Supplier<ConnectionPool> primary) throws SQLException {
        this.poolName = config.poolName();
        this.primary = primary;
        this.ticker = config.ticker();
        this.maxLagNanos = config.maxReplicationLag().toNanos();
        this.primaryHost = new HostHealth.Host(FerryConfig.maskUrl(config.jdbcUrl()), HostHealth.Role.PRIMARY);
        List<HostHealth.Host> hosts = new ArrayList<>();
        hosts.add(primaryHost);
        int n = 0;
        try {
            for (String url : config.replicas()) {
                n++;
                HostHealth.Host host = new HostHealth.Host(FerryConfig.maskUrl(url), HostHealth.Role.REPLICA);
                FerryConfig replicaConfig = config.toBuilder().jdbcUrl(url).poolName(poolName + "-replica-" + n)
                        .initializationFailTimeout(Duration.ofMillis(-1)).forReplica().build();
                replicas.put(host, new ConnectionPool(replicaConfig));
                hosts.add(host);
            }
        } catch (SQLException | RuntimeException e) {
            close();
            throw e;
        }
        this.health = new HostHealth(hosts, config.banTime(), ticker);
        this.banTime = config.banTime();
    }

    /** A read-only connection from a usable replica, else from the primary, within connectionTimeout. */
    public Connection getConnection(Priority priority) throws SQLException {
        return getConnection(priority, null);
    }

    /** As {@link #getConnection(Priority)}, within {@code maxWait} (null: connectionTimeout, as set now). */
    public Connection getConnection(Priority priority, Duration maxWait) throws SQLException {
        long timeout = maxWait != null ? Math.max(0, maxWait.toNanos())
                : TimeUnit.MILLISECONDS.toNanos(primary.get().connectionTimeoutMillis());
        long deadline = System.nanoTime() + timeout;
        reportUnbans();
        HostHealth.Host host = health.forRead(h -> replicas.get(h).activeConnections()); // replicas only
        if (host != null && host != primaryHost && !closed) {
            Connection c = fromReplica(host, priority, Math.min(MAX_REPLICA_WAIT_NANOS, timeout / 2));
            if (c != null) {
                return c;
            }
        }
        // The primary gets the rest of the caller's time: never less than half of connectionTimeout for a plain
        // read; exactly what is left of maxWait for a batch, whose callers' deadlines come first.
        long left = deadline - System.nanoTime();
        long remaining = maxWait != null ? Math.max(0, left) : Math.max(timeout / 2, left);
        return readOnly(primary.get().getConnection(priority, Duration.ofNanos(remaining)));
    }

    /** The connection, read-only; closed if that fails (a broken connection), and the failure rethrown. */
    private static Connection readOnly(Connection c) throws SQLException {
        try {
            c.setReadOnly(true);
            return c;
        } catch (SQLException | RuntimeException e) {
            try {
                c.close();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * A connection from the replica, or null (then the caller goes to the primary). The replica is banned only for
     * what says it is unwell: a connection error (SQLState class 08, or a timeout while it cannot connect), or a
     * lag above the limit twice in a row. A replica merely busy (its pool exhausted, shedding) is not banned.
     */
    private Connection fromReplica(HostHealth.Host host, Priority priority, long waitNanos) throws SQLException {
        attempts.computeIfAbsent(host, h -> new java.util.concurrent.atomic.LongAdder()).increment();
        ConnectionPool pool = replicas.get(host);
        Connection c = null;
        try {
            c = pool.getConnection(priority, Duration.ofNanos(waitNanos));
            c.setReadOnly(true); // before any query: pgjdbc refuses it inside a transaction (autoCommit off)
            // The lag query's timeout counts whole seconds: with less than a second left it is not read now (the
            // replica's last readings, and any ban they led to, still apply).
            if (maxLagNanos > 0 && waitNanos >= TimeUnit.SECONDS.toNanos(1) && lagDue(host)) {
                Duration lag = lag(c, waitNanos);
                if (lag.toNanos() > maxLagNanos) {
                    if (lagStreak.merge(host, 1, Integer::sum) >= 2) { // one reading may be a replay moment
                        ban(host, "replication lag " + lag.toMillis() + "ms above maxReplicationLag "
                                + TimeUnit.NANOSECONDS.toMillis(maxLagNanos) + "ms");
                    }
                    c.close();
                    return null;
                }
                lagStreak.remove(host);
            }
            return c;
        } catch (SQLException | RuntimeException e) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // broken: the pool retires it
                }
            }
            if (Thread.currentThread().isInterrupted() || (e instanceof SQLException s && "HY008".equals(s.getSQLState()))) {
                throw e; // the caller was interrupted: not the replica's fault, and no fallback
            }
            if (!closed && unwell(e)) {
                ban(host, e.getMessage());
            }
            return null;
        }
    }

    /** Whether a failure says the replica itself is unwell, rather than busy. */
    private static boolean unwell(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("08")
                    && !(t instanceof java.sql.SQLTransientConnectionException && t.getCause() == null)) {
                return true; // a connection error; a plain pool timeout (no cause) only means it is busy
            }
            if (t instanceof java.sql.SQLTransientConnectionException && t.getCause() != null) {
                return true; // timed out while the replica refused connections: the last error is the cause
            }
        }
        return !(e instanceof SQLException);
    }

    /** The replica's lag, read within the time the caller gave the replica (at least a second). */
    private static Duration lag(Connection c, long waitNanos) throws SQLException {
        Duration lag = ReplicationLag.of(c, (int) Math.max(1, TimeUnit.NANOSECONDS.toSeconds(waitNanos)))
                .orElse(Duration.ZERO);
        if (!c.getAutoCommit()) {
            c.rollback(); // the query opened a transaction: end it, the caller's starts clean
        }
        return lag;
    }

    private boolean lagDue(HostHealth.Host host) {
        long now = ticker.read();
        Long last = lagCheckedAt.get(host);
        if (last != null && now - last < LAG_CHECK_NANOS) {
            return false;
        }
        lagCheckedAt.put(host, now);
        return true;
    }

    private void ban(HostHealth.Host host, String reason) {
        if (health.failed(host, reason)) {
            reportedBanned.add(host);
            primary.get().raise(new dev.ferry.PoolEvent.ReplicaBanned(poolName, host.name(), reason, banTime));
        }
    }

    /** Raises ReplicaUnbanned, once, for each reported ban that has ended. */
    private void reportUnbans() {
        if (reportedBanned.isEmpty()) {
            return;
        }
        for (HostHealth.Host h : reportedBanned) {
            if (!health.isBanned(h) && reportedBanned.remove(h)) {
                primary.get().raise(new dev.ferry.PoolEvent.ReplicaUnbanned(poolName, h.name()));
            }
        }
    }

    /** The replicas' health (for tests and operators). */
    public HostHealth health() {
        return health;
    }

    /** Reads sent to a replica's pool so far (served or not). */
    public long attempts(HostHealth.Host host) {
        java.util.concurrent.atomic.LongAdder n = attempts.get(host);
        return n == null ? 0 : n.sum();
    }

    /** The replica hosts, in configuration order. */
    public List<HostHealth.Host> replicaHosts() {
        return new ArrayList<>(replicas.keySet());
    }

    /** The replicas' pools, for changes made at run time (credentials, timeout) to reach them too. */
    public java.util.Collection<ConnectionPool> pools() {
        return replicas.values();
    }

    @Override
    public void close() {
        closed = true;
        List<Thread> closing = new ArrayList<>();
        for (ConnectionPool p : replicas.values()) { // in parallel: each may wait its shutdownTimeout
            Thread t = new Thread(p::close, poolName + "-replica-close");
            t.setDaemon(true);
            t.start();
            closing.add(t);
        }
        boolean interrupted = false;
        for (Thread t : closing) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
