package dev.ferry.pool;

import dev.ferry.Scheduler;
import dev.ferry.capacity.PoolLoad;
import dev.ferry.capacity.ServerShare;
import dev.ferry.capacity.SizingPolicy;
import dev.ferry.capacity.UsageMeter;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a pool's {@link SizingPolicy} and its server-aware cap.
 *
 * <h2>Design notes</h2>
 *
 * <p><b>Each sizing period</b> (on the pool's scheduler, one period at a time): the usage meter's period ends
 * (its time-averaged demand goes into the load the policy sees), the server share is re-read if the cap is on, the policy's target is taken and clamped to the pool's cap, idle
 * connections above the target are retired if the policy asks for that, and the pool is asked to open what the
 * target or minimumIdle call for. The policy runs outside every lock of the pool's; a policy that throws is
 * logged, and the pool keeps its last target.
 *
 * <p><b>On demand.</b> Before the pool opens a connection for waiting callers, or to bring idle connections
 * back to minimumIdle, it asks the policy ({@link #grow}). A "no" schedules one re-check (a quarter of the mean
 * connect time, 1 to 100 ms; one outstanding at a time) so the question is asked again while the need lasts,
 * even if no new caller arrives and nothing is returned. A policy that throws there is logged and taken as yes.
 *
 * <p><b>Server share.</b> Read with {@link ServerShare#read} on an idle connection of the pool's, claimed as
 * housekeeping claims one (never a lent one); a period with no idle connection keeps the last cap. A database
 * other than PostgreSQL turns the cap off, with one warning. A failed read keeps the last cap (logged at DEBUG).
 * The cap only lowers the pool's maximum; connections above it are retired as they come back idle.
 */
final class PoolSizer {

    private static final Logger LOG = LoggerFactory.getLogger(PoolSizer.class);
    private static final long RECHECK_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long RECHECK_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final ConnectionPool pool;
    private final String poolName;
    private final Scheduler scheduler;
    private final Duration period;
    private volatile boolean serverAware;
    private volatile SizingPolicy policy;
    final UsageMeter meter;
    private volatile int target;
    private volatile int serverCap = Integer.MAX_VALUE;
    private volatile ServerShare share;
    private final AtomicBoolean recheckPending = new AtomicBoolean();
    private volatile Future<?> nextTick;
    private volatile boolean stopped;

    PoolSizer(ConnectionPool pool, String poolName, Scheduler scheduler, Duration period, SizingPolicy policy,
              boolean serverAware, long start) {
        this.meter = new UsageMeter(start);
        this.pool = pool;
        this.poolName = poolName;
        this.scheduler = scheduler;
        this.period = period;
        this.policy = policy;
        this.serverAware = serverAware;
    }

    /** Whether there is anything to run each period. */
    boolean active() {
        return policy != null || serverAware;
    }

    /** Whether lends and returns should be measured (hold times feed the policy). */
    boolean measuring() {
        return policy != null;
    }

    void start() {
        if (active()) {
            tick();
        }
    }

    void stop() {
        stopped = true;
        Future<?> f = nextTick;
        if (f != null) {
            f.cancel(false);
        }
    }

    SizingPolicy policy() {
        return policy;
    }

    /** Replaces the policy (null: HikariCP's sizing); the new one is consulted at once. */
    void setPolicy(SizingPolicy next) {
        boolean wasActive = active();
        policy = next;
        if (next == null) {
            target = 0;
        }
        if (!wasActive && active()) {
            tick();
        } else {
            pool.requestConnections();
        }
    }

    /** Connections the policy asks for now, clamped to the pool's cap; 0 without a policy. */
    int target() {
        return target;
    }

    /** The most connections the server share allows; Integer.MAX_VALUE when the cap is off or not yet read. */
    int serverCap() {
        return serverCap;
    }

    ServerShare share() {
        return share;
    }

    void tick() {
        try {
            PoolLoad load = pool.load(true); // ends the usage period: the demand over it
            if (serverAware) {
                refreshShare();
            }
            SizingPolicy p = policy;
            if (p != null) {
                int wanted = p.target(load);
                target = Math.max(0, Math.min(wanted, load.maximumPoolSize()));
                Duration retireAfter = p.retireIdleAfter();
                if (retireAfter != null) {
                    pool.retireIdleAbove(target, retireAfter.toNanos());
                }
            }
            pool.requestConnections();
        } catch (RuntimeException e) {
            LOG.warn("{} - sizing period failed; keeping target {}", poolName, target, e);
        } finally {
            if (!stopped && active()) {
                try {
                    nextTick = scheduler.schedule(this::tick, period);
                } catch (RuntimeException refused) {
                    LOG.debug("{} - sizing stopped: scheduler refused ({})", poolName, refused.toString());
                }
            }
        }
    }

    /** Asks the policy whether to open a connection now (callers wait, or idle is below minimumIdle); re-checks on "no". */
    boolean grow() {
        SizingPolicy p = policy;
        if (p == null) {
            return true;
        }
        boolean grow;
        try {
            grow = p.grow(pool.load());
        } catch (RuntimeException e) {
            LOG.warn("{} - sizing policy {} failed deciding whether to open a connection; opening one", poolName, p, e);
            return true;
        }
        if (!grow && !stopped && recheckPending.compareAndSet(false, true)) {
            long delay = Math.max(RECHECK_MIN_NANOS, Math.min(RECHECK_MAX_NANOS, meter.meanConnectNanos() / 4));
            try {
                scheduler.schedule(() -> {
                    recheckPending.set(false);
                    pool.requestConnections();
                }, Duration.ofNanos(delay));
            } catch (RuntimeException refused) {
                recheckPending.set(false);
            }
        }
        return grow;
    }

    private void refreshShare() {
        int max = pool.maximumPoolSize();
        ServerShare read;
        try {
            read = pool.withIdleConnection(c -> {
                String product = c.getMetaData().getDatabaseProductName();
                if (!"PostgreSQL".equalsIgnoreCase(product)) {
                    throw new UnsupportedOperationException(product);
                }
                return ServerShare.read(c, pool.openConnections(), max, pool.validationSeconds());
            });
        } catch (UnsupportedOperationException notPostgres) {
            serverAware = false;
            serverCap = Integer.MAX_VALUE;
            LOG.warn("{} - serverAwareCap is for PostgreSQL; this database is {}: cap off", poolName,
                    notPostgres.getMessage());
            return;
        } catch (SQLException | RuntimeException e) {
            LOG.debug("{} - could not read the server share (keeping cap {}): {}", poolName, serverCap, e.toString());
            return;
        }
        if (read == null) {
            return; // no idle connection this period
        }
        ServerShare previous = share;
        share = read;
        if (previous == null || previous.cap() != read.cap()) {
            LOG.info("{} - server-aware cap: {} of maximumPoolSize {}", poolName, read, max);
        }
        serverCap = read.cap();
    }
}
