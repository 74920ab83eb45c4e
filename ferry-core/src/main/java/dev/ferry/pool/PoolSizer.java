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
 * <p><b>Each sizing period</b> (on the pool's scheduler; one chain of periods at a time, the first run at start
 * before the pool is in use): the usage meter's period ends (its time-averaged demand goes into the load the
 * policy sees), a read of the server share is started in the background (one at a time) if the cap is on, the policy's target is taken and clamped to the pool's cap, idle
 * connections above the target are retired if the policy asks for that, and the pool is asked to open what the
 * target or minimumIdle call for. The policy runs outside every lock of the pool's; a policy that throws is
 * logged, and the pool keeps its last target.
 *
 * <p><b>On demand.</b> Before the pool opens a connection for waiting callers, or to bring idle connections
 * back to minimumIdle, it asks the policy ({@link #grow}). A "no" while callers wait schedules one re-check (a
 * quarter of the mean connect time, 1 to 100 ms; one outstanding at a time), so the question is asked again
 * while they wait, even if no new caller arrives and nothing is returned; a "no" to a minimumIdle top-up is
 * asked again at the next period. A policy that throws there is logged and taken as yes.
 *
 * <p><b>Server share.</b> Read with {@link ServerShare#read} on an idle connection of the pool's, claimed as
 * housekeeping claims one (never a lent one), on the pool's closer threads so the scheduler's one thread never
 * waits on the server; a period with no idle connection keeps the last cap. A database other than PostgreSQL
 * turns the cap off, with one warning. A failed read keeps the last cap and the connection, if it still
 * validates (the first failure of a run of them is logged at WARN). The cap only lowers the pool's maximum;
 * connections above it are retired as they come back idle.
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
    /** One chain of sizing periods at a time: set while one is scheduled or running. */
    private final AtomicBoolean chainRunning = new AtomicBoolean();
    /** One server-share read at a time (it runs off the scheduler's thread). */
    private final AtomicBoolean shareRunning = new AtomicBoolean();
    private volatile boolean postgresChecked;
    /** Consecutive failed reads of the server share (only the read in progress touches it). */
    private int failures;
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

    /**
     * Whether lends and returns are timed (hold times feed the policy): only while a policy is set, since it
     * costs two adds per return. Read on the pool's borrow and return paths.
     */
    boolean measuring() {
        return policy != null;
    }

    void start() {
        if (active() && chainRunning.compareAndSet(false, true)) {
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

    /**
     * Replaces the policy (null: HikariCP's sizing). It decides on-demand growth at once, and its target from the
     * next sizing period (at once if no period was running).
     */
    void setPolicy(SizingPolicy next) {
        policy = next;
        if (next == null) {
            target = 0;
        }
        if (active() && !stopped && chainRunning.compareAndSet(false, true)) {
            schedule(Duration.ZERO);
        }
        pool.requestConnections();
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

    /** One sizing period; runs on the scheduler (the first at start, before the pool is in use). */
    void tick() {
        try {
            PoolLoad load = pool.load(true); // ends the usage period: the demand over it
            if (serverAware && shareRunning.compareAndSet(false, true)) {
                try {
                    pool.runInBackground(this::refreshShare); // a query: not on the scheduler's one thread
                } catch (RuntimeException rejected) {
                    shareRunning.set(false);
                }
            }
            SizingPolicy p = policy;
            if (p == null) {
                target = 0;
            } else {
                int wanted = p.target(load);
                if (policy == p) { // replaced meanwhile: the new one's answer comes next period
                    target = Math.max(0, Math.min(wanted, load.maximumPoolSize()));
                    if (policy == null) {
                        target = 0; // removed between the check and the write (both volatile: one side sees it)
                    }
                    Duration retireAfter = p.retireIdleAfter();
                    if (retireAfter != null && policy == p) {
                        pool.retireIdleAbove(target, retireAfter.toNanos());
                    }
                }
            }
            pool.requestConnections();
        } catch (RuntimeException e) {
            LOG.warn("{} - sizing period failed; keeping target {}", poolName, target, e);
        } finally {
            if (!stopped && active()) {
                schedule(period);
            } else {
                chainRunning.set(false);
                // A policy set just now may have seen the chain still running: start it again for it.
                if (!stopped && active() && chainRunning.compareAndSet(false, true)) {
                    schedule(period);
                }
            }
        }
    }

    private void schedule(Duration delay) {
        try {
            nextTick = scheduler.schedule(this::tick, delay);
        } catch (RuntimeException refused) {
            chainRunning.set(false);
            if (!stopped) {
                LOG.warn("{} - sizing periods stopped: the scheduler refused the next one ({}); setting a policy "
                        + "again restarts them", poolName, refused.toString());
            }
        }
    }

    /**
     * Asks the policy whether to open a connection now (callers wait, or idle is below minimumIdle). On "no"
     * while callers wait, schedules one re-check; a minimumIdle top-up is asked again at the next period.
     */
    boolean grow(boolean callersWait) {
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
        if (!grow && callersWait && !stopped && recheckPending.compareAndSet(false, true)) {
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

    /** Reads the server share on an idle connection; runs in the background, one at a time. */
    private void refreshShare() {
        try {
            refreshShareNow();
        } finally {
            shareRunning.set(false);
        }
    }

    private void refreshShareNow() {
        if (!serverAware) {
            return;
        }
        int max = pool.maximumPoolSize();
        ServerShare read;
        try {
            if (!postgresChecked) {
                Boolean postgres = pool.withIdleConnection(
                        c -> "PostgreSQL".equalsIgnoreCase(c.getMetaData().getDatabaseProductName()));
                if (postgres == null) {
                    return; // no idle connection this period
                }
                if (!postgres) {
                    serverAware = false;
                    serverCap = Integer.MAX_VALUE;
                    LOG.warn("{} - serverAwareCap is for PostgreSQL; this database is not: cap off", poolName);
                    return;
                }
                postgresChecked = true;
            }
            int perInstance = Math.min(max, serverCap); // peers are taken to be capped as this instance is
            read = pool.withIdleConnection(c -> ServerShare.read(c, pool.sessionsOpen(), max, perInstance,
                    pool.validationSeconds()));
        } catch (SQLException | RuntimeException e) {
            if (failures++ == 0) {
                LOG.warn("{} - could not read the server share (keeping cap {}; retried each period): {}", poolName,
                        serverCap == Integer.MAX_VALUE ? "none" : serverCap, e.toString());
            }
            return;
        }
        if (read == null) {
            return; // no idle connection this period
        }
        failures = 0;
        ServerShare previous = share;
        share = read;
        if (previous == null || previous.cap() != read.cap()) {
            LOG.info("{} - server-aware cap: {} of maximumPoolSize {}", poolName, read, max);
        }
        serverCap = read.cap();
    }
}
