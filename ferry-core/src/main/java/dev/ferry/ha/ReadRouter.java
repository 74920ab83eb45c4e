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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends reads to the replicas of {@link FerryConfig#replicas()}: each replica has a pool of its own (the primary's
 * settings, its own {@code maximumPoolSize}: one budget per host, not one shared budget yet); a read borrows from
 * the usable replica with the fewest connections lent ({@link HostHealth}), waits for it at most a second (or half
 * of connectionTimeout if shorter), and falls back to the primary within the rest of the caller's timeout when the
 * replica fails or is too far behind (then the replica is banned for banTime; while every replica is banned, reads
 * go to the primary). Connections handed out are read-only.
 *
 * <p>Lag is read on a replica connection about to be lent, at most once a second per replica (a query), when
 * {@code maxReplicationLag} is set.
 */
public final class ReadRouter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ReadRouter.class);
    private static final long LAG_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long MAX_REPLICA_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String poolName;
    private final Supplier<ConnectionPool> primary;
    private final HostHealth health;
    private final HostHealth.Host primaryHost;
    private final Map<HostHealth.Host, ConnectionPool> replicas = new LinkedHashMap<>(); // read-only after construction
    private final Map<HostHealth.Host, Long> lagCheckedAt = new ConcurrentHashMap<>();
    private final Map<HostHealth.Host, java.util.concurrent.atomic.LongAdder> attempts = new ConcurrentHashMap<>();
    private final long maxLagNanos;
    private final long connectionTimeoutNanos;
    private final Ticker ticker;

    /** Starts a pool per replica (without checking the replica: it may be down now and come back). */
    public ReadRouter(FerryConfig config, Supplier<ConnectionPool> primary) throws SQLException {
        this.poolName = config.poolName();
        this.primary = primary;
        this.ticker = config.ticker();
        this.maxLagNanos = config.maxReplicationLag().toNanos();
        this.connectionTimeoutNanos = config.connectionTimeout().toNanos();
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
    }

    /** A read-only connection from a usable replica, else from the primary, within connectionTimeout. */
    public Connection getConnection(Priority priority) throws SQLException {
        long deadline = System.nanoTime() + connectionTimeoutNanos;
        HostHealth.Host host = health.forRead(h -> replicas.get(h).activeConnections()); // replicas only
        if (host != null && host != primaryHost) {
            Connection c = fromReplica(host, priority);
            if (c != null) {
                return c;
            }
        }
        long remaining = Math.max(0, deadline - System.nanoTime());
        Connection c = primary.get().getConnection(priority, Duration.ofNanos(remaining));
        c.setReadOnly(true);
        return c;
    }

    private Connection fromReplica(HostHealth.Host host, Priority priority) {
        attempts.computeIfAbsent(host, h -> new java.util.concurrent.atomic.LongAdder()).increment();
        ConnectionPool pool = replicas.get(host);
        Connection c = null;
        try {
            // At most half the caller's time: the other half is the primary's, should the replica fail.
            c = pool.getConnection(priority, Duration.ofNanos(Math.min(MAX_REPLICA_WAIT_NANOS,
                    connectionTimeoutNanos / 2)));
            if (maxLagNanos > 0 && lagDue(host)) {
                Duration lag = ReplicationLag.of(c).orElse(Duration.ZERO);
                if (lag.toNanos() > maxLagNanos) {
                    ban(host, "replication lag " + lag.toMillis() + "ms above maxReplicationLag "
                            + TimeUnit.NANOSECONDS.toMillis(maxLagNanos) + "ms");
                    c.close();
                    return null;
                }
            }
            c.setReadOnly(true);
            return c;
        } catch (SQLException e) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // broken: the pool retires it
                }
            }
            ban(host, e.getMessage());
            return null;
        }
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
            LOG.warn("{} - replica {} left out of reads for the ban time: {}", poolName, host.name(), reason);
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

    @Override
    public void close() {
        for (ConnectionPool p : replicas.values()) {
            p.close();
        }
    }
}
