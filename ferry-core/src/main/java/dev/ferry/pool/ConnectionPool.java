package dev.ferry.pool;

import dev.ferry.ExceptionOverride;
import dev.ferry.FerryConfig;
import dev.ferry.FerryPool;
import dev.ferry.Priority;
import dev.ferry.Scheduler;
import dev.ferry.Ticker;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool engine behind {@code FerryDataSource}. Not part of the public API: obtain its public face,
 * {@link FerryPool}, with {@code dataSource.unwrap(FerryPool.class)}.
 *
 * <h2>Design notes</h2>
 *
 * <p><b>Lending</b> is {@link ConnectionBag}'s job (lock-free fast path, FIFO hand-off to waiters). The pool adds
 * the checks around it: a connection marked for eviction, past its lifetime, or idle long enough that it may
 * have died is not lent; it is retired and the borrower tries again within its own deadline. A waiter whose
 * connection is retired so keeps its place at the head of the queue. Validation during a borrow is given at most
 * the borrower's remaining time, and none at all once its deadline has passed, so dead idle connections cannot
 * hold a borrower past connectionTimeout.
 *
 * <p><b>Demand.</b> A caller counts as waiting before it asks for a connection to be opened, and the connector
 * opens connections while unserved waiters outnumber idle connections (or idle connections are below
 * minimumIdle) and the budget allows. So a caller never waits beside a connection the pool could open, whatever
 * minimumIdle is, unless a sizing policy says otherwise: with one ({@link PoolSizer}), the pool also opens up to
 * the policy's target in the background, and opens connections while callers wait (minimumIdle top-ups
 * included) only when the policy agrees. The reactive policy declines when the connections lent now will come
 * back and serve the queue before a connect could finish; a caller then waits for a return rather than for a
 * connect, and the question is asked again shortly while it waits.
 *
 * <p><b>Lanes.</b> With lanes configured, every NORMAL and BULK borrower is first admitted to its lane
 * ({@link dev.ferry.capacity.LaneBudget}: the main lane when it names none; waiting there only at a capped
 * lane's cap), within the same timeout, and leaves it after its connection is back in the bag. The connection
 * it is lent is marked with its lane (a plain field the borrower owns; lanes count their connections from these
 * marks). If it must wait
 * for a connection, it waits in the bag at the rank its lane gives it (GUARANTEED within the lane's minimum,
 * BULK above its weighted share); the emergency reserve and shedding go by its own priority, and a returned
 * reserve connection goes only to a CRITICAL waiter.
 * CRITICAL borrowers are not admitted to lanes. Without lanes, the borrow path reads one final field more.
 *
 * <p><b>Budget.</b> {@link #openConnections} counts physical connections from the moment a connect starts until
 * the close has finished or validationTimeout after it was queued, whichever comes first. A connect takes its
 * place in that count by compare-and-set below the cap ({@code maximumPoolSize}, lowered by a server-aware cap
 * when one is on) before it starts, so the database sees no more than the budget, except while a close takes (or waits) longer than validationTimeout: a hung close must
 * not stop the pool from refilling.
 *
 * <p><b>Creation</b> happens on connector threads, never on a borrower's (except the first connection of a pool
 * started lazily by its first borrower, per initializationFailTimeout): borrowers wait in the bag, and each new
 * connection is returned to it like any other, handed to or waking the oldest waiter. One connector keeps minimumIdle, one connection at a time; while
 * callers wait, up to three connect in parallel, so a pool emptied by a database restart refills in a third of
 * the time. Connections being opened count as on their way, so parallel connectors do not answer the same
 * demand twice. Failures back off exponentially (10 ms to 1 s, or to 250 ms with failover on) on one connector
 * (the others stop) and the last error is kept, so a borrower that times out while the database is down gets it as the cause. A caller that
 * starts waiting cuts the back-off short (attempts at most every 50 ms; not after an authentication failure), so
 * when the database comes back a new caller's attempt succeeds rather than waiting out a 1 s back-off.
 *
 * <p><b>Retirement</b> never takes a connection from a borrower. Lifetime (with per-connection jitter of up to
 * 2.5%, so connections made together do not all retire together) and fatal errors set {@code evict}, and a pool
 * above its maximum retires returned connections (the check and the removal under the bag's lock, so several
 * returners retire only the excess); the connection is closed when it is returned, or by housekeeping if it is
 * idle. Closes run on a small closer pool, each bounded by a network timeout where the driver supports one.
 * After {@code setMaximumPoolSize} shrinks the pool, the database sees the old size until lent connections
 * come back.
 *
 * <p><b>Observation.</b> Metrics go to the configured tracker through {@link GuardedPoolMetrics}, which logs and
 * swallows whatever it throws; without a tracker the field is null and the borrow and return paths read no clock
 * for metrics (a timed borrow is a separate method, {@code borrowMeasured}). Events go through
 * {@link PoolEvents} (the logging listener, then the user's), likewise guarded. Both are called on the thread
 * where the thing happens and never under the pool's or the bag's locks: a resize raises its event after
 * releasing resizeLock, an eviction after the bag has let go of the entry. With SQL statistics on, connections
 * hand out timed statement proxies ({@link TimedStatement}, {@link TimedPreparedStatement}); without, the plain
 * ones. Exhaustion ({@link Exhaustion}) is tracked apart from the pool's hot fields, since waiters write it.
 *
 * <p><b>Time.</b> Ages (idle, lifetime, keepalive, validation bypass) are read from the configured
 * {@link Ticker}; periodic work is scheduled on the configured {@link Scheduler}, so tests advance both by hand.
 * Waiting for a connection uses the JVM's clock, because it parks a real thread.
 */
public final class ConnectionPool implements FerryPool, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionPool.class);

    /** A connection used this recently is lent without validation (HikariCP uses the same 500 ms window). */
    private static final long ALIVE_BYPASS_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /**
     * Less time than this left (or half of connectionTimeout, if that is less), and a connection that needs
     * validation is not validated (nor lent).
     */
    private static final long MIN_VALIDATION_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long BACKOFF_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** While callers wait, a back-off is cut short, but attempts come no closer together than this. */
    private static final long CUT_SHORT_FLOOR_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long BACKOFF_MAX_NANOS = TimeUnit.SECONDS.toNanos(1);
    /**
     * With failover on, connect attempts back off to no more than this: each attempt is also the search for a
     * promoted replica, and writers wait for it to be found.
     */
    private static final long FAILOVER_BACKOFF_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final java.lang.invoke.VarHandle BROKEN_AT;

    static {
        try {
            BROKEN_AT = java.lang.invoke.MethodHandles.lookup().findVarHandle(ConnectionPool.class, "brokenAt",
                    long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private static final int CLOSER_THREADS = 4;
    /** Connects in parallel while callers wait (a database restart empties the pool with callers queued). */
    private static final int MAX_FILLERS = 3;

    private final FerryConfig config;
    private final String poolName;
    private final ConnectionBag bag;
    private final Ticker ticker;
    private final Scheduler scheduler;
    private final ScheduledThreadPoolExecutor ownScheduler;
    private final ThreadFactory threadFactory;
    private final ThreadPoolExecutor connector;
    private final ThreadPoolExecutor closer;
    private final ConnectionFactory factory;
    private final FatalErrors fatalErrors;
    /**
     * When a connection was last found broken (ticker reading; at first long before any connection's last use):
     * see {@link #needsValidation}.
     */
    private volatile long brokenAt;
    /** The longest back-off between connect attempts while they fail (shorter with failover on). */
    private final long backoffMaxNanos;
    private final ExceptionOverride exceptionOverride;

    final boolean defaultAutoCommit;
    final boolean defaultReadOnly;
    final int queryTimeoutSeconds;
    private final long idleTimeoutNanos;
    private final long keepaliveNanos;
    private final long validationNanos;

    private volatile int maximumPoolSize;
    private volatile int minimumIdle;
    private volatile long connectionTimeoutNanos;
    /** See {@link #MIN_VALIDATION_NANOS}; follows connectionTimeout. */
    private volatile long minValidationNanos;
    private final ConnectionBag.Acceptor lendableBefore = this::lendableBefore;
    private final Runnable callerWaits = this::callerWaits;
    private volatile long leakThresholdNanos;
    /** The double-borrow guard; null with multipleAcquisition=ALLOW (the default), so borrows pay nothing. */
    private final AcquisitionGuard guard;
    /** The configured interceptors; null when there are none, so borrows and returns pay nothing for them. */
    final Interceptors interceptors;
    /** Leak reclaim and the hold cap (0: off), and whether either is on (then proxies count running statements). */
    private final long reclaimNanos;
    final long maxHoldNanos;
    /** The idle-in-transaction cap (0: off); proxies then note when their last statement ended. */
    final long idleInTransactionNanos;
    final boolean takesBack;
    private final java.util.concurrent.atomic.AtomicLong connectionsReclaimed = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicBoolean abortFallbackLogged =
            new java.util.concurrent.atomic.AtomicBoolean();
    /** Serialises resizes, so minimumIdle never ends above maximumPoolSize. Never held while waiting. */
    private final ReentrantLock resizeLock = new ReentrantLock();
    /** minimumIdle was never set, so it is the default (maximumPoolSize) and shrinks with it (under resizeLock). */
    private boolean minimumIdleFollowsMaximum;

    private final AtomicInteger openConnections = new AtomicInteger();
    /** Connector tasks running (at most {@link #MAX_FILLERS}). */
    private final AtomicInteger fillers = new AtomicInteger();
    /** Connects in progress: counted in openConnections too, and as connections on their way to the bag. */
    private final AtomicInteger pendingCreates = new AtomicInteger();
    /** Held by the one connector that backs off after a failure; the others stop instead of retrying. */
    private final AtomicBoolean backOffClaimed = new AtomicBoolean();
    /** Callers that started waiting, ever: a back-off is cut short only by a new one. (An adder: no contention.) */
    private final java.util.concurrent.atomic.LongAdder arrivals = new java.util.concurrent.atomic.LongAdder();
    /** The connector thread while it sleeps out a back-off; a new waiter unparks it. */
    private volatile Thread backingOff;
    private final AtomicInteger connectionsCreated = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong reserveUses = new java.util.concurrent.atomic.AtomicLong();
    private volatile int reserve;
    private final long reserveTimeoutNanos;
    /** The sizing policy and server-aware cap (idle unless one is configured or set at run time). */
    private final PoolSizer sizer;
    /** Lanes sharing the budget; null when none are configured (then no permits are taken). */
    private final dev.ferry.capacity.LaneBudget lanes;
    /** The pool's JMX beans while it runs (registerMbeans), else null; unregistered by {@link #close}. */
    private volatile dev.ferry.observe.PoolMBeans mbeans;
    /** The main lane of {@link #lanes} (null without lanes), looked up once: every plain borrow goes to it. */
    private final dev.ferry.capacity.LaneBudget.Slot mainLane;
    /** Null unless queueWaitTarget is set. */
    private final dev.ferry.capacity.OverloadDetector overload;
    /** Reserve connections open now (not counted in {@link #openConnections}, the normal budget). */
    private final AtomicInteger reserveOpen = new AtomicInteger();
    private final AtomicInteger leaksSuspected = new AtomicInteger();
    /** Null when no metrics factory is configured: then nothing is measured or recorded for metrics. */
    private final dev.ferry.observe.PoolMetrics metrics;
    private final PoolEvents events;
    private final Exhaustion exhaustion = new Exhaustion();
    /** Per-statement figures; null when sqlStatistics is off (then statements are not timed). */
    final dev.ferry.observe.SqlStatistics statistics;
    private final long slowStatementNanos;
    /** A Shed event was raised for the present overload (one per overload, not one per refused caller). */
    private final AtomicBoolean shedReported = new AtomicBoolean();
    private volatile SQLException lastConnectFailure;
    /** The budget shared with per-user pools ({@link SharedBudget}); null when there are none (perUserPoolSize 0). */
    private final SharedBudget shared;
    /** A warm-up was asked for: from then on readiness waits for one to reach its target. */
    private volatile boolean warmUpAsked;
    /** The last warm-up's target: reached later (the pool filling on its own), it opens the gate too. */
    private volatile int warmUpTarget;
    /** A warm-up reached its target: the readiness gate, open for good. */
    private volatile boolean warmedUp;
    private volatile boolean closed;
    private volatile Future<?> housekeeping;

    private volatile boolean suspended;
    private final ReentrantLock suspendLock = new ReentrantLock();
    private final Condition resumed = suspendLock.newCondition();

    /**
     * Starts a pool: checks the database per {@code initializationFailTimeout}, then fills to minimumIdle in the
     * background and starts housekeeping.
     *
     * @throws SQLException if the first connection cannot be made within initializationFailTimeout
     */
    public ConnectionPool(FerryConfig config) throws SQLException {
        this(config, null);
    }

    /**
     * Starts a pool that counts its connections in {@code family} too (a per-user pool, {@link UserPools}); null:
     * a data source's main pool, which starts a shared budget of its own when per-user pools are configured.
     */
    ConnectionPool(FerryConfig config, SharedBudget family) throws SQLException {
        this.config = config;
        this.shared = family != null ? family : config.perUserPoolSize() > 0 ? new SharedBudget(this::connectionCap)
                : null;
        this.poolName = config.poolName();
        this.ticker = config.ticker();
        this.bag = new ConnectionBag(ticker);
        this.defaultAutoCommit = config.autoCommit();
        this.defaultReadOnly = config.readOnly();
        this.queryTimeoutSeconds = (int) config.queryTimeout().toSeconds();
        this.idleTimeoutNanos = config.idleTimeout().toNanos();
        this.keepaliveNanos = config.keepaliveTime().toNanos();
        this.validationNanos = config.validationTimeout().toNanos();
        this.maximumPoolSize = config.maximumPoolSize();
        this.minimumIdle = config.minimumIdle();
        this.minimumIdleFollowsMaximum = !config.isSet("minimumIdle");
        this.connectionTimeoutNanos = config.connectionTimeout().toNanos();
        this.minValidationNanos = Math.min(MIN_VALIDATION_NANOS, connectionTimeoutNanos / 2);
        this.reserve = config.reserve();
        this.reserveTimeoutNanos = config.reserveTimeout().toNanos();
        this.overload = config.queueWaitTarget().isZero() ? null : new dev.ferry.capacity.OverloadDetector(poolName,
                config.queueWaitTarget().toNanos(), config.overloadInterval().toNanos(), config.shedOnOverload(),
                ticker);
        this.leakThresholdNanos = config.leakDetectionThreshold().toNanos();
        this.guard = config.multipleAcquisition() == dev.ferry.MultipleAcquisition.ALLOW ? null
                : new AcquisitionGuard(config.multipleAcquisition(), poolName);
        this.interceptors = Interceptors.of(config.interceptors(), poolName);
        this.reclaimNanos = config.leakReclaimTimeout().toNanos();
        this.maxHoldNanos = config.maxHoldTime().toNanos();
        this.idleInTransactionNanos = config.idleInTransactionTimeout().toNanos();
        this.takesBack = reclaimNanos > 0 || maxHoldNanos > 0 || idleInTransactionNanos > 0;
        this.exceptionOverride = config.exceptionOverride();
        this.fatalErrors = FatalErrors.forSource(config.jdbcUrl(), config.driver() != null
                ? config.driver().getClass().getName() : config.dataSource().getClass().getName());
        this.threadFactory = config.threadFactory();
        this.connector = threads("connector", MAX_FILLERS);
        this.closer = threads("closer", CLOSER_THREADS);
        this.factory = new ConnectionFactory(config, DIRECT, this::primaryChanged);
        this.backoffMaxNanos = config.failover() ? FAILOVER_BACKOFF_MAX_NANOS : BACKOFF_MAX_NANOS;
        this.brokenAt = ticker.read() - (1L << 62);
        if (config.scheduler() != null) {
            this.scheduler = config.scheduler();
            this.ownScheduler = null;
        } else {
            this.ownScheduler = new ScheduledThreadPoolExecutor(1, named("housekeeper"));
            this.ownScheduler.setRemoveOnCancelPolicy(true);
            this.scheduler = (task, delay) -> ownScheduler.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
        }
        this.sizer = new PoolSizer(this, poolName, scheduler, config.sizingPeriod(), config.sizing(),
                config.serverAwareCap(), ticker.read());
        this.lanes = config.lanes().isEmpty() ? null
                : new dev.ferry.capacity.LaneBudget(config.lanes(), this::connectionCap,
                        new dev.ferry.capacity.LaneBudget.Lending() {
                            @Override
                            public int lentIn(int laneIndex) {
                                return lentInLane(laneIndex);
                            }

                            @Override
                            public boolean lentOutside(dev.ferry.capacity.LaneBudget.Slot lane) {
                                return lentOutsideLane(lane);
                            }
                        });
        this.mainLane = lanes == null ? null : lanes.lane(null);
        for (String adaptation : config.adaptations()) {
            LOG.info("{} - adapted {}", poolName, adaptation);
        }
        java.util.List<dev.ferry.FerryListener> listeners = new java.util.ArrayList<>();
        listeners.add(new dev.ferry.observe.LoggingListener(ticker, dev.ferry.observe.LoggingListener.DEFAULT_INTERVAL));
        listeners.addAll(config.listeners());
        this.events = new PoolEvents(listeners);
        this.statistics = config.sqlStatistics() ? new dev.ferry.observe.SqlStatistics(
                dev.ferry.observe.SqlStatistics.DEFAULT_MAX_FINGERPRINTS, fatalErrors.isMySql()) : null;
        this.slowStatementNanos = config.slowStatementThreshold().toNanos();
        this.metrics = config.metricsTrackerFactory() == null ? null
                : new GuardedPoolMetrics(java.util.Objects.requireNonNull(config.metricsTrackerFactory().create(this),
                        "metricsTrackerFactory.create returned null"), poolName);
        if (shared != null) {
            shared.join(this);
        }
        try {
            checkDatabase();
        } catch (Throwable e) { // (an Error, or a checked exception user code sneaked through, cleans up too)
            if (shared != null) {
                shared.leave(this);
            }
            shutdownExecutors();
            closeMetrics();
            throw e;
        }
        try {
            scheduleHousekeeping();
            sizer.start();
            requestConnections();
        } catch (RuntimeException | Error e) {
            close(); // closes the first connection too
            throw e;
        }
        if (config.registerMbeans()) {
            dev.ferry.observe.PoolMBeans beans = dev.ferry.observe.PoolMBeans.register(this);
            mbeans = beans;
            if (closed) {
                beans.unregister(); // closed meanwhile (close saw no beans yet): do not leave them behind
            }
        }
        LOG.info("{} - started: {}", poolName, config);
    }

    private ThreadPoolExecutor threads(String role, int count) {
        ThreadPoolExecutor executor = new ThreadPoolExecutor(count, count, 5, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), named(role));
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    private ThreadFactory named(String role) {
        if (threadFactory != null) {
            return threadFactory;
        }
        return runnable -> {
            Thread t = new Thread(runnable, poolName + "-" + role);
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Makes the first connection per initializationFailTimeout and keeps it in the pool: below zero, no attempt;
     * zero, one attempt, and the pool starts empty if it fails (as in HikariCP); above zero, attempts until it
     * has passed, then fails.
     */
    private void checkDatabase() throws SQLException {
        Duration failTimeout = config.initializationFailTimeout();
        if (failTimeout.isNegative()) {
            return;
        }
        long deadline = System.nanoTime() + failTimeout.toNanos();
        long backoff = BACKOFF_MIN_NANOS;
        for (;;) {
            openConnections.incrementAndGet();
            if (shared != null) {
                shared.claim(); // the main pool's first connection: no user pool exists yet
            }
            try {
                PoolEntry entry = openMetered();
                connectionsCreated.incrementAndGet();
                bag.add(entry);
                bag.requite(entry);
                return;
            } catch (SQLException | RuntimeException | LinkageError e) {
                openConnections.decrementAndGet();
                if (shared != null) {
                    shared.release(false);
                }
                long remaining = deadline - System.nanoTime();
                if (failTimeout.isZero()) {
                    lastConnectFailure = asSqlException(e);
                    LOG.warn("{} - could not open a first connection to {}; starting anyway "
                            + "(initializationFailTimeout=0): {}", poolName, source(), e.toString());
                    return;
                }
                if (remaining <= 0) {
                    SQLException sql = asSqlException(e);
                    throw new SQLException(poolName + " - could not open a first connection to " + source()
                            + " within initializationFailTimeout (" + failTimeout.toMillis() + "ms): "
                            + sql.getMessage(), sql.getSQLState(), e);
                }
                LockSupport.parkNanos(Math.min(backoff, remaining));
                backoff = Math.min(backoff * 2, backoffCap(asSqlException(e)));
            }
        }
    }

    private String source() {
        return config.jdbcUrl() != null ? config.maskedJdbcUrl() : config.dataSource().getClass().getName();
    }

    // ---------------------------------------------------------------- borrowing

    /** Lends a connection, waiting up to connectionTimeout (all checks of idle connections included). */
    public Connection getConnection() throws SQLException {
        return getConnection(connectionTimeoutNanos);
    }

    /**
     * Lends a connection, waiting up to {@code timeoutNanos} or connectionTimeout, whichever is shorter: for
     * callers with a deadline of their own (a batch whose requests expire sooner).
     */
    @Override
    public Connection getConnection(Duration maxWait) throws SQLException {
        long nanos = maxWait.isNegative() ? 0 : maxWait.toNanos();
        return getConnection(Math.min(nanos, connectionTimeoutNanos));
    }

    /**
     * Lends a connection to a caller of this priority: waiting callers are served by priority, FIFO within one;
     * a CRITICAL caller may open a reserve connection beyond maximumPoolSize when none is free.
     */
    @Override
    public Connection getConnection(Priority priority) throws SQLException {
        return getConnection(connectionTimeoutNanos, java.util.Objects.requireNonNull(priority, "priority"));
    }

    @Override
    public Connection getConnection(Priority priority, Duration maxWait) throws SQLException {
        java.util.Objects.requireNonNull(priority, "priority");
        long nanos = maxWait.isNegative() ? 0 : maxWait.toNanos();
        return getConnection(Math.min(nanos, connectionTimeoutNanos), priority);
    }

    private Connection getConnection(long timeoutNanos) throws SQLException {
        return getConnection(timeoutNanos, Priority.NORMAL);
    }

    /**
     * Lends a connection to a caller in {@code lane} (null: the main lane) at this priority, waiting up to
     * connectionTimeout for the lane's permit and the connection together.
     */
    @Override
    public Connection getConnection(String lane, Priority priority) throws SQLException {
        java.util.Objects.requireNonNull(priority, "priority");
        dev.ferry.capacity.LaneBudget.Slot slot = laneSlot(lane); // one of ours: no need to check it again
        if (slot == null) {
            return getConnection(connectionTimeoutNanos, priority); // (which runs the double-borrow check)
        }
        if (guard != null) {
            checkNestedBorrow();
        }
        return borrowInOwnLane(slot, priority);
    }

    /**
     * The lane named {@code name} (null: the main lane), for a lane's DataSource view to look up once; null if
     * the pool has no lanes and {@code name} is the main lane.
     *
     * @throws SQLException if there is no such lane
     */
    public dev.ferry.capacity.LaneBudget.Slot laneSlot(String name) throws SQLException {
        if (lanes == null) {
            if (name != null && !name.equals(dev.ferry.capacity.Lane.MAIN)) {
                throw new SQLException(poolName + " - lane: got '" + name + "'; allowed: none configured (see "
                        + "FerryConfig.Builder.lane), so only the main lane", "HY000");
            }
            return null;
        }
        try {
            return lanes.lane(name);
        } catch (IllegalArgumentException noSuchLane) {
            throw new SQLException(poolName + " - " + noSuchLane.getMessage(), "HY000", noSuchLane);
        }
    }

    /**
     * Lends a connection to a caller in a lane of this pool's ({@link #laneSlot}) at this priority.
     *
     * @throws SQLException as {@link #getConnection()}, or if {@code lane} is not one of this pool's lanes
     */
    public Connection getConnection(dev.ferry.capacity.LaneBudget.Slot lane, Priority priority) throws SQLException {
        java.util.Objects.requireNonNull(priority, "priority");
        if (guard != null) {
            checkNestedBorrow();
        }
        if (lanes == null || !lanes.owns(lane)) {
            throw new SQLException(poolName + " - lane: got " + (lane == null ? "null" : "'" + lane.name() + "'")
                    + ", a lane of another pool or none; allowed: a lane of this pool's (laneSlot)", "HY000");
        }
        return borrowInOwnLane(lane, priority);
    }

    /** Lends a connection in one of this pool's lanes (the double-borrow check done): the borrow, the interceptors. */
    private Connection borrowInOwnLane(dev.ferry.capacity.LaneBudget.Slot lane, Priority priority)
            throws SQLException {
        if (interceptors != null) {
            long start = ticker.read();
            return intercepted(metrics != null ? borrowMeasured(lane, connectionTimeoutNanos, priority)
                    : borrowInLane(lane, connectionTimeoutNanos, priority), start);
        }
        return metrics != null ? borrowMeasured(lane, connectionTimeoutNanos, priority)
                : borrowInLane(lane, connectionTimeoutNanos, priority);
    }

    private Connection getConnection(long timeoutNanos, Priority priority) throws SQLException {
        if (guard != null) {
            checkNestedBorrow();
        }
        if (interceptors != null) {
            long start = ticker.read();
            return intercepted(borrowChecked(timeoutNanos, priority), start);
        }
        return borrowChecked(timeoutNanos, priority);
    }

    /**
     * Runs the interceptors' onAcquire on a connection just lent; if one fails, the connection is evicted and
     * given back (the interceptors' onReturn is not run for it) and the borrower gets the interceptor's error.
     */
    private Connection intercepted(Connection c, long start) throws SQLException {
        ProxyConnection proxy = (ProxyConnection) c;
        try {
            interceptors.acquire(c, ticker.read() - start);
        } catch (SQLException e) {
            proxy.entry.evict("interceptor failed in onAcquire");
            try {
                c.close();
            } catch (SQLException | RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        proxy.markAcquired();
        return c;
    }

    private Connection borrowChecked(long timeoutNanos, Priority priority) throws SQLException {
        if (metrics != null) {
            return borrowMeasured(mainLane, timeoutNanos, priority);
        }
        if (mainLane != null && priority != Priority.CRITICAL) {
            return borrowInLane(mainLane, timeoutNanos, priority);
        }
        return borrow(timeoutNanos, priority, null);
    }

    /** The double-borrow guard's check, before anything may wait: FAIL throws, WARN fires its event. */
    private void checkNestedBorrow() throws SQLException {
        SQLException refused = guard.check(events);
        if (refused != null) {
            throw refused;
        }
    }

    /**
     * A borrow timed for the metrics (apart, so a pool without metrics reads no clock for them): in {@code lane}
     * unless it is null or the caller is CRITICAL.
     */
    private Connection borrowMeasured(dev.ferry.capacity.LaneBudget.Slot lane, long timeoutNanos, Priority priority)
            throws SQLException {
        boolean inLane = lane != null && priority != Priority.CRITICAL;
        long start = System.nanoTime();
        Connection c = inLane ? borrowInLane(lane, timeoutNanos, priority) : borrow(timeoutNanos, priority, null);
        metrics.acquired(inLane ? lane.name() : null, System.nanoTime() - start);
        return c;
    }

    /**
     * Admits the caller to its lane (see {@link dev.ferry.capacity.LaneBudget}), then lends it a connection, both
     * within the one timeout; the caller leaves the lane when the connection is back (in {@link #release}), or at
     * once if none was lent. CRITICAL callers are not admitted to lanes.
     *
     * <p>Kept small, with the wait at a cap and every message in other methods: this is the hot path of every
     * borrow in a lane, and the JIT inlines small methods into their callers more reliably.
     */
    private Connection borrowInLane(dev.ferry.capacity.LaneBudget.Slot lane, long timeoutNanos, Priority priority)
            throws SQLException {
        if (priority == Priority.CRITICAL) {
            return borrow(timeoutNanos, priority, null);
        }
        int admission = lanes.tryAdmit(lane); // the common case: no wait, no clock read
        if (admission == dev.ferry.capacity.LaneBudget.WAIT) {
            return borrowAfterCap(lane, timeoutNanos, priority);
        }
        return borrowAdmitted(lane, admission, timeoutNanos, priority);
    }

    /** {@link #borrowInLane} for a caller that must wait at its lane's cap first, within the one timeout. */
    private Connection borrowAfterCap(dev.ferry.capacity.LaneBudget.Slot lane, long timeoutNanos, Priority priority)
            throws SQLException {
        if (closed) {
            throw closedException();
        }
        int admission;
        long start = System.nanoTime();
        try {
            admission = lanes.admit(lane, timeoutNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException(poolName + " - interrupted while waiting in lane " + lane.name(), "HY008", e);
        }
        if (admission == dev.ferry.capacity.LaneBudget.WAIT) {
            if (closed) {
                throw closedException();
            }
            timedOut(lane.name());
            throw new SQLTransientConnectionException(poolName + " - connection is not available in lane "
                    + lane.name() + ", request timed out after " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos)
                    + "ms at the lane's cap " + laneState(lane) + " " + state(), "08001");
        }
        long remaining = Math.max(0, timeoutNanos - (System.nanoTime() - start));
        return borrowAdmitted(lane, admission, remaining, priority);
    }

    /** Lends a connection to a caller admitted to {@code lane}, marking it with the lane; leaves it if none. */
    private Connection borrowAdmitted(dev.ferry.capacity.LaneBudget.Slot lane, int admission, long timeoutNanos,
                                      Priority priority) throws SQLException {
        Connection c;
        try {
            c = borrow(timeoutNanos, priority, lane);
        } catch (Throwable t) {
            lanes.leave(lane, admission);
            throw t;
        }
        // The borrower owns the entry: a plain store, read at return and by lentInLane. Marked before a capped
        // admission stops counting as pending, so the lane's occupancy never reads low.
        ((ProxyConnection) c).entry.lane = lane;
        lanes.lent(lane, admission);
        return c;
    }

    private String laneState(dev.ferry.capacity.LaneBudget.Slot lane) {
        for (dev.ferry.capacity.LaneBudget.LaneState ls : lanes.state(lentByLane())) {
            if (ls.lane().name().equals(lane.name())) {
                return "(lane " + ls.lane() + ": lent " + ls.lent() + ", waiting " + ls.waiting()
                        + ", waiting at the cap " + ls.waitingAtCap() + ")";
            }
        }
        return "";
    }

    /** Connections lent now to one lane's callers (a scan of the entries: for capped lanes and waiters only). */
    private int lentInLane(int index) {
        int n = 0;
        for (PoolEntry e : bag.snapshot()) {
            dev.ferry.capacity.LaneBudget.Slot a = e.lane;
            if (a != null && a.index() == index && e.state() == PoolEntry.IN_USE) {
                n++;
            }
        }
        return n;
    }

    /** Whether a connection is lent now to a caller of a lane other than {@code lane}. */
    private boolean lentOutsideLane(dev.ferry.capacity.LaneBudget.Slot lane) {
        for (PoolEntry e : bag.snapshot()) {
            dev.ferry.capacity.LaneBudget.Slot a = e.lane;
            if (a != null && a != lane && e.state() == PoolEntry.IN_USE) {
                return true;
            }
        }
        return false;
    }

    /** Connections lent now per lane, by the lane's index (a scan of the entries). */
    private int[] lentByLane() {
        int[] lent = new int[lanes.size()];
        for (PoolEntry e : bag.snapshot()) {
            dev.ferry.capacity.LaneBudget.Slot a = e.lane; // written by the borrower; a moment's view
            if (a != null && e.state() == PoolEntry.IN_USE) {
                lent[a.index()]++;
            }
        }
        return lent;
    }

    /**
     * Lends a connection: the fast path, or {@link #borrowSlow}. {@code lane} (null: none) sets the rank the
     * caller waits at if it must wait.
     */
    private Connection borrow(long timeoutNanos, Priority priority, dev.ferry.capacity.LaneBudget.Slot lane)
            throws SQLException {
        if (closed) {
            throw closedException();
        }
        if (!suspended) {
            PoolEntry entry = bag.poll();
            if (entry != null) {
                long now = ticker.read();
                if (!closed && !entry.evict && !expired(entry, now) && !needsValidation(entry, now)) {
                    if (overload != null && overload.isOverloaded()) {
                        overload.served(0); // a free connection: whatever overload there was is over
                    }
                    return lend(entry, now); // the common case: one clock read, no validation
                }
                long timeout = timeoutNanos;
                long deadline = System.nanoTime() + timeout;
                if (closed) {
                    release(entry);
                    throw closedException();
                }
                if (lendableBefore(entry, deadline)) {
                    return lend(entry, ticker.read());
                }
                return lend(borrowSlow(deadline, timeout, priority, lane), ticker.read());
            }
        }
        long timeout = timeoutNanos;
        if (sizer.measuring()) {
            long waitStart = ticker.read();
            try {
                return lend(borrowSlow(System.nanoTime() + timeout, timeout, priority, lane), ticker.read());
            } finally {
                sizer.meter.waited(ticker.read() - waitStart); // waiting is demand too (sizing policy)
            }
        }
        return lend(borrowSlow(System.nanoTime() + timeout, timeout, priority, lane), ticker.read());
    }

    /**
     * Opens a connection beyond maximumPoolSize for a CRITICAL caller, if the pool is at its maximum and the
     * reserve has room; null otherwise (then the caller waits like anyone else, first in line). The connection is
     * the caller's at once. It is counted apart from the pool's budget ({@link #reserveOpen}); when it comes
     * back it goes to a waiting CRITICAL caller, or is closed, which gives its reserve place back.
     */
    private PoolEntry openReserve() {
        if (backOffClaimed.get()) {
            return null; // the database is refusing connections: no login storm from CRITICAL callers either
        }
        for (;;) {
            int inReserve = reserveOpen.get();
            if (!atCap() || inReserve >= reserve) {
                return null; // below the maximum the pool grows normally; a full reserve has no room
            }
            if (reserveOpen.compareAndSet(inReserve, inReserve + 1)) {
                break;
            }
        }
        PoolEntry entry;
        long connectStart = ticker.read();
        try {
            entry = factory.open();
            entry.reserve = true;
            if (metrics != null) {
                metrics.created(ticker.read() - connectStart);
            }
        } catch (Throwable e) {
            reserveOpen.decrementAndGet();
            if (e instanceof VirtualMachineError) {
                throw (VirtualMachineError) e;
            }
            LOG.warn("{} - could not open a reserve connection for a CRITICAL caller: {}", poolName, e.toString());
            return null;
        }
        connectionsCreated.incrementAndGet();
        long uses = reserveUses.incrementAndGet();
        if (metrics != null) {
            metrics.reserveUsed();
        }
        events.fire(new dev.ferry.PoolEvent.ReserveUsed(poolName, uses, bag.size() + 1, maximumPoolSize, reserve));
        bag.add(entry);
        if (closed) {
            retire(entry, "pool closed");
            return null;
        }
        return entry;
    }

    @Override
    public Duration oldestWait() {
        return Duration.ofNanos(bag.oldestWaitNanos(ticker.read()));
    }

    @Override
    public boolean isOverloaded() {
        return overload != null && overload.isOverloaded();
    }

    /** Times a CRITICAL caller opened a connection from the emergency reserve. */
    @Override
    public long reserveUses() {
        return reserveUses.get();
    }

    private boolean expired(PoolEntry entry, long now) {
        return entry.retires && now - entry.retireAt >= 0;
    }

    private PoolEntry borrowSlow(long deadline, long timeout, Priority priority,
                                 dev.ferry.capacity.LaneBudget.Slot lane) throws SQLException {
        if (suspended) {
            awaitResume(deadline, timeout);
        }
        // Poll while there is time to validate what we find; with less, only waiting (whose check gives a
        // connection needing validation back and parks) is left, so a given-back connection is not polled again.
        for (PoolEntry entry; (entry = bag.poll()) != null; ) {
            if (closed) {
                release(entry);
                throw closedException();
            }
            if (lendableBefore(entry, deadline)) {
                if (overload != null && priority != Priority.CRITICAL) {
                    overload.served(0);
                }
                return entry;
            }
            if (deadline - System.nanoTime() < minValidationNanos) {
                break; // what we find now we could not validate: wait instead (see above)
            }
        }
        long beforeWait = System.nanoTime();
        if (deadline - beforeWait <= 0) {
            timedOut(lane == null ? null : lane.name());
            throw timeoutException(timeout);
        }
        long waitFrom = 0;
        if (overload != null) {
            if (shedReported.get() && !overload.isOverloaded()) {
                shedReported.set(false); // the overload is over: the next one raises its own event
            }
            if (bag.waiting() == 0) {
                overload.queueEmpty();
            } else if (overload.sheds(priority) && bag.count(PoolEntry.IDLE) == 0) {
                shed(priority);
                throw new SQLTransientConnectionException(poolName + " - overloaded: callers have waited "
                        + TimeUnit.NANOSECONDS.toMillis(overload.targetNanos()) + "ms or more for a connection for "
                        + "a while, so this " + priority + " request was refused at once instead of queueing "
                        + "(CRITICAL requests still wait) " + state(), "53300");
            }
            waitFrom = ticker.read();
        }
        if (atCap() && exhaustion.waitAtCap(ticker.read())) {
            events.fire(new dev.ferry.PoolEvent.Exhausted(poolName, totalConnections(), activeConnections(),
                    waitingThreads() + 1, connectionCap()));
        }
        PoolEntry entry;
        try {
            entry = null;
            if (priority == Priority.CRITICAL && reserve > 0) {
                // Wait reserveTimeout for a normal connection (at the head of the queue), then use the reserve.
                if (reserveTimeoutNanos > 0) {
                    long until = Math.min(deadline, System.nanoTime() + reserveTimeoutNanos);
                    entry = bag.await(until, config.maxWaiting(), priority, lendableBefore, callerWaits);
                    if (entry == ConnectionBag.REJECTED) {
                        entry = null; // cannot happen for CRITICAL (never rejected), but never skip the reserve for it
                    }
                }
                if (entry == null && !closed) {
                    entry = openReserve();
                }
            }
            if (entry == null) {
                entry = lane == null
                        ? bag.await(deadline, config.maxWaiting(), priority, lendableBefore, callerWaits)
                        : awaitInLane(lane, deadline, priority, beforeWait);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException(poolName + " - interrupted while waiting for a connection", "HY008", e);
        }
        if (entry == ConnectionBag.REJECTED) {
            if (metrics != null) {
                metrics.rejected("maxWaiting");
            }
            throw rejectedException();
        }
        if (entry == null) {
            if (closed) {
                throw closedException();
            }
            if (overload != null && priority != Priority.CRITICAL) {
                overload.served(ticker.read() - waitFrom); // a timeout is the longest wait of all
            }
            timedOut(lane == null ? null : lane.name());
            throw timeoutException(timeout);
        }
        if (closed) {
            release(entry);
            throw closedException();
        }
        if (overload != null && priority != Priority.CRITICAL) {
            overload.served(ticker.read() - waitFrom); // CRITICAL waits are short by design: they would mask overload
        }
        return entry;
    }

    /**
     * Waits in the bag as a caller of {@code lane}, at its lane's rank (within its minimum: GUARANTEED; above its
     * weighted share: BULK). Apart from {@link #borrowSlow} so that method keeps one shape with and without lanes.
     */
    private PoolEntry awaitInLane(dev.ferry.capacity.LaneBudget.Slot lane, long deadline, Priority priority,
                                  long now) throws InterruptedException {
        dev.ferry.capacity.LaneBudget.Rank rank = lanes.rank(lane, priority, now);
        if (rank == null) { // no other lane wants connections: wait as any caller, uncounted
            return bag.await(deadline, config.maxWaiting(), priority, lendableBefore, callerWaits);
        }
        int bagRank = rank == dev.ferry.capacity.LaneBudget.Rank.GUARANTEED ? WaiterQueue.GUARANTEED
                : rank == dev.ferry.capacity.LaneBudget.Rank.BULK ? WaiterQueue.BULK
                : WaiterQueue.rankOf(priority);
        lanes.waiting(lane);
        try {
            return bag.await(deadline, config.maxWaiting(), bagRank, lendableBefore, callerWaits);
        } finally {
            lanes.served(lane);
        }
    }

    /**
     * Whether an entry just taken may be lent before {@code deadline}: if not, it is retired (unusable), or
     * given back (usable, but too little time is left to validate it: a validation cut to a few milliseconds
     * would fail, and kill, a healthy connection).
     */
    private boolean lendableBefore(PoolEntry entry, long deadline) {
        if (closed) {
            return true; // the caller sees closed and releases it
        }
        long now = ticker.read();
        if (entry.evict || expired(entry, now)) {
            retire(entry, entry.evict ? entry.evictReason() : entry.ageReason());
            return false;
        }
        if (!needsValidation(entry, now)) {
            return true; // the common case: no clock read for the deadline
        }
        long remaining = deadline - System.nanoTime();
        if (remaining < minValidationNanos) {
            giveBack(entry);
            return false;
        }
        if (!factory.isAlive(entry, Math.min(validationNanos, remaining))) {
            retire(entry, "failed validation before lending");
            return false;
        }
        entry.lastAlive = ticker.read();
        return true;
    }

    /** Gives back an entry a waiter could not use: a reserve one only to a CRITICAL waiter, else it is closed. */
    private void giveBack(PoolEntry entry) {
        if (entry.reserve) {
            if (!bag.handToCritical(entry)) {
                retire(entry, "reserve connection given back");
            }
        } else {
            bag.requite(entry);
        }
    }

    /**
     * Whether an idle connection is checked before it is lent: when it has been idle longer than the bypass
     * window (as in HikariCP), or when it was returned (and not checked since) before a connection of this pool was
     * found broken by a lost session or link, since whatever broke that one (a restart, every backend terminated, a
     * network cut) may have broken it too. So after every backend dies at once, of borrowers that come one after
     * another only the first to hit a dead connection sees an error; borrowers that took idle connections at the
     * same moment, before any failure was seen, may each see one.
     */
    private boolean needsValidation(PoolEntry entry, long now) {
        if (now - entry.lastAccessed > ALIVE_BYPASS_NANOS) {
            return true;
        }
        long broken = brokenAt;
        return entry.lastAccessed - broken < 0 && entry.lastAlive - broken < 0;
    }

    /**
     * Records that a connection was found broken by a lost session or link (not a statement error or an
     * application's eviction): moves {@link #brokenAt} forward, never back.
     */
    private void noteSessionLost(Exception cause) {
        if (!dev.ferry.ha.PrimaryLocator.unreachable(cause)) {
            return;
        }
        long now = ticker.read();
        for (;;) { // forward only: a slower caller with an older reading must not move it back
            long before = brokenAt;
            if (now - before <= 0 || BROKEN_AT.compareAndSet(this, before, now)) {
                return;
            }
        }
    }

    private Connection lend(PoolEntry entry, long now) {
        if (metrics != null || sizer.measuring() || interceptors != null) {
            entry.lentAt = now;
        }
        long leakThreshold = leakThresholdNanos;
        if (leakThreshold > 0) {
            Throwable site = new Exception("connection borrowed here by thread " + Thread.currentThread().getName());
            entry.leakReport = null; // this borrow's report, if any, is decided by the CAS in reportLeak
            entry.borrowSite = site;
            entry.borrowedAt = now;
            try {
                entry.leakCheck = scheduler.schedule(() -> reportLeak(entry, site), Duration.ofNanos(leakThreshold));
            } catch (RuntimeException e) {
                entry.borrowSite = null; // the scheduler refused (shut down?): lend without leak detection
                LOG.warn("{} - could not schedule leak detection: {}", poolName, e.toString());
            }
        }
        if (guard != null) {
            guard.lent(entry);
        }
        if (entry.requestBoundaries) {
            beginRequest(entry);
        }
        ProxyConnection proxy = new ProxyConnection(this, entry);
        if (takesBack) {
            watchHold(proxy, now);
        }
        return proxy;
    }

    /**
     * Tells the driver a loan begins (JDBC 4.3 request boundaries). A driver that fails here gets the connection
     * evicted when it comes back; the loan goes on, since the boundary is the driver's hint, not a check.
     */
    private void beginRequest(PoolEntry entry) {
        try {
            entry.connection.beginRequest();
        } catch (SQLException | RuntimeException | LinkageError e) {
            entry.evict("beginRequest failed: " + e);
            LOG.debug("{} - beginRequest failed on {}: {}", poolName, entry, e.toString());
        }
    }

    /** How often a connection due for leak reclaim is looked at again while a statement runs on it. */
    private static final long RECLAIM_RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    /** Schedules the leak-reclaim / hold-cap check of a loan (at the earlier of the two caps). */
    private void watchHold(ProxyConnection proxy, long lentAt) {
        Throwable site = proxy.entry.borrowSite != null ? proxy.entry.borrowSite
                : new Exception("connection borrowed here by thread " + Thread.currentThread().getName());
        if (idleInTransactionNanos > 0) {
            proxy.lastActivity = lentAt;
        }
        scheduleHoldCheck(proxy, lentAt, site, nextCapDue(proxy, lentAt, 0));
    }

    private void scheduleHoldCheck(ProxyConnection proxy, long lentAt, Throwable site, long delayNanos) {
        try {
            proxy.entry.holdCheck = scheduler.schedule(() -> checkHold(proxy, lentAt, site),
                    Duration.ofNanos(Math.max(0, delayNanos)));
        } catch (RuntimeException e) {
            LOG.warn("{} - could not schedule the leak-reclaim check: {}", poolName, e.toString());
        }
    }

    /**
     * Takes a loan back if it is past a cap: past maxHoldTime at once (a running statement is aborted with the
     * connection), past leakReclaimTimeout once no statement runs on it (else it looks again shortly). The
     * connection is then evicted and closed, which ends its transaction on the server, and given back through
     * {@link #release}, so its lane, leak check and double-borrow record are cleared as on any return.
     */
    private void checkHold(ProxyConnection proxy, long lentAt, Throwable site) {
        if (proxy.isClosedByAnyone() || closed) {
            return;
        }
        long seen = proxy.runningWord(); // first: a statement that starts after this keeps the connection
        long now = ticker.read();
        long held = now - lentAt;
        boolean hold = maxHoldNanos > 0 && held >= maxHoldNanos;
        boolean leak = !hold && reclaimNanos > 0 && held >= reclaimNanos;
        boolean idleInTransaction = !hold && !leak && idleInTransactionNanos > 0 && proxy.inTransaction
                && now - proxy.lastActivity >= idleInTransactionNanos;
        if (!hold && !leak && !idleInTransaction) { // not due yet (a recheck, activity since): wait for the next
            scheduleHoldCheck(proxy, lentAt, site, nextCapDue(proxy, now, held));
            return;
        }
        String cap = hold ? "maxHoldTime=" + TimeUnit.NANOSECONDS.toMillis(maxHoldNanos) + "ms"
                : leak ? "leakReclaimTimeout=" + TimeUnit.NANOSECONDS.toMillis(reclaimNanos) + "ms"
                : "idleInTransactionTimeout=" + TimeUnit.NANOSECONDS.toMillis(idleInTransactionNanos) + "ms";
        SQLException because = new SQLException(poolName + " - the pool took this connection back after "
                + TimeUnit.NANOSECONDS.toMillis(held) + "ms, past " + cap + "; its transaction is rolled back and "
                + "nothing more runs on it (the cause is where it was borrowed)", "08003", site);
        int running = proxy.takeBack(because, hold, seen);
        if (running < 0) {
            if (!proxy.isClosedByAnyone()) { // a statement is running: look again shortly
                long next = RECLAIM_RECHECK_NANOS;
                if (maxHoldNanos > 0) {
                    next = Math.min(next, Math.max(0, maxHoldNanos - held));
                }
                scheduleHoldCheck(proxy, lentAt, site, next);
            }
            return;
        }
        PoolEntry entry = proxy.entry;
        String why = cap + (running > 0 ? " (a statement was aborted)" : "");
        entry.evict("reclaimed: held past " + why);
        // Aborted, not closed: some drivers (Oracle's) commit on close(). An abort drops the session, so the
        // server rolls back what was open; and it ends a running statement at once. Nothing can start on the
        // connection meanwhile (takeBack refuses statements), but objects the borrower still holds reach it until
        // this line, so it comes first. A driver that cannot abort (pgjdbc 42.7 on JDK 24+ throws a
        // SecurityException from its permission check) gets its running statement cancelled here, and a rollback
        // before its close on the closer thread: never a rollback here, which would wait for the running statement.
        try {
            entry.connection.abort(Runnable::run);
        } catch (SQLException | RuntimeException | LinkageError e) {
            if (abortFallbackLogged.compareAndSet(false, true)) {
                LOG.warn("{} - the driver could not abort a reclaimed connection ({}); what runs on it is "
                        + "cancelled and its transaction rolled back before it is closed instead (logged once)",
                        poolName, e.toString());
            }
            entry.reclaimedWithoutAbort = proxy; // the closer cancels and rolls back: no network I/O here
        }
        Future<?> leakCheck = entry.leakCheck;
        if (leakCheck != null) { // taken back, not returned: no LeakReturned event for it
            entry.leakCheck = null;
            entry.borrowSite = null;
            leakCheck.cancel(false);
            PoolEntry.LEAK_REPORT.set(entry, PoolEntry.RETURNED);
        }
        connectionsReclaimed.incrementAndGet();
        events.fire(new dev.ferry.PoolEvent.ConnectionReclaimed(poolName, entry.toString(), Duration.ofNanos(held),
                why, site));
        release(entry); // evicted: closed, which rolls back what was open; the budget place comes back
    }

    /**
     * How long until the next cap may be due for a loan held {@code held} so far: the hold cap, leak reclaim, or
     * (with a transaction open) the idle-in-transaction cap counted from the last statement's end; without a
     * transaction, one idle-in-transaction period from now, to look again.
     */
    private long nextCapDue(ProxyConnection proxy, long now, long held) {
        long next = Long.MAX_VALUE;
        if (maxHoldNanos > 0) {
            next = Math.max(0, maxHoldNanos - held);
        }
        if (reclaimNanos > 0 && held < reclaimNanos) {
            next = Math.min(next, reclaimNanos - held);
        }
        if (idleInTransactionNanos > 0) {
            long idle = proxy.inTransaction ? now - proxy.lastActivity : 0;
            next = Math.min(next, Math.max(0, idleInTransactionNanos - idle));
        }
        return next;
    }

    /** Connections taken back by leak reclaim, the hold cap or the idle-in-transaction cap. */
    public long connectionsReclaimed() {
        return connectionsReclaimed.get();
    }

    /** Takes a connection back from a closed proxy. */
    void release(PoolEntry entry) {
        if (guard != null) {
            guard.released(entry);
        }
        long now = ticker.read();
        dev.ferry.capacity.LaneBudget.Slot lane = entry.lane;
        if (metrics != null && entry.lentAt - entry.lastAccessed >= 0) { // lent since its last return (not an entry
            metrics.released(lane == null ? null : lane.name(), now - entry.lentAt); // taken back unlent at close)
        }
        if (lane == null) {
            returnEntry(entry, now);
            return;
        }
        entry.lane = null;
        releaseInLane(entry, lane, now);
    }

    /** {@link #release} of a connection lent in a lane: apart, so the path without lanes stays small. */
    private void releaseInLane(PoolEntry entry, dev.ferry.capacity.LaneBudget.Slot lane, long now) {
        try {
            returnEntry(entry, now); // the connection first, then the lane (whose counts rank the next waiters)
        } finally {
            lanes.leave(lane, dev.ferry.capacity.LaneBudget.FREE); // no longer marked: it left the lane's count
        }
    }

    private void returnEntry(PoolEntry entry, long now) {
        Future<?> holdCheck = entry.holdCheck;
        if (holdCheck != null) {
            entry.holdCheck = null;
            holdCheck.cancel(false);
        }
        Future<?> leakCheck = entry.leakCheck;
        if (leakCheck != null) {
            Throwable site = entry.borrowSite;
            entry.leakCheck = null;
            entry.borrowSite = null;
            leakCheck.cancel(false);
            // Either the report claimed this borrow first (then it was reported, and its return is too), or this
            // return did (then a report still running finds it returned and says nothing).
            if (PoolEntry.LEAK_REPORT.getAndSet(entry, PoolEntry.RETURNED) == site && site != null) {
                events.fire(new dev.ferry.PoolEvent.LeakReturned(poolName, entry.toString(),
                        Duration.ofNanos(now - entry.borrowedAt)));
            }
        }
        if (sizer.measuring() && entry.lentAt - entry.lastAccessed >= 0) {
            sizer.meter.held(entry.lentAt, now);
        }
        entry.lastAccessed = now;
        if (entry.evict || closed || (entry.retires && now - entry.retireAt >= 0)) {
            retire(entry, entry.evict ? entry.evictReason() : closed ? "pool closed" : entry.ageReason());
            return;
        }
        if (entry.reserve) {
            if (!bag.handToCritical(entry)) { // straight to the first CRITICAL waiter, never to anyone else
                retire(entry, "reserve connection returned");
            }
            return;
        }
        if (bag.size() - reserveOpen.get() > connectionCap() && retireIfOversized(entry)) {
            return;
        }
        if (shared != null && yieldedToOthers(entry)) {
            return;
        }
        bag.requite(entry);
        if (exhaustion.isExhausted()) {
            checkRecovered(now);
        }
    }

    private void checkRecovered(long now) {
        dev.ferry.PoolEvent.Recovered recovered = exhaustion.recovered(poolName, now, bag.waiting());
        if (recovered != null) {
            events.fire(recovered);
        }
    }

    /** The clock statements are timed with (the configured ticker, so tests set the time a statement takes). */
    long statementClock() {
        return ticker.read();
    }

    /** A timed statement ran (on the borrower's thread, no lock held). */
    void executed(dev.ferry.observe.SqlStatistics.Statement statement, long nanos, long rows, boolean failed) {
        statement.record(nanos, rows, failed);
        if (metrics != null) {
            metrics.statement(nanos, failed);
        }
        if (slowStatementNanos > 0 && nanos >= slowStatementNanos) {
            if (metrics != null) {
                metrics.slowStatement();
            }
            events.fire(new dev.ferry.PoolEvent.SlowStatement(poolName, statement.fingerprint(),
                    Duration.ofNanos(nanos), Duration.ofNanos(slowStatementNanos)));
        }
    }

    @Override
    public java.util.Optional<dev.ferry.observe.SqlStatistics> sqlStatistics() {
        return java.util.Optional.ofNullable(statistics);
    }

    /**
     * Delivers an event raised by one of Ferry's components working for this pool (the read router) to the pool's
     * listeners, on the calling thread. Call it outside any lock.
     */
    public void raise(dev.ferry.PoolEvent event) {
        events.fire(event);
    }

    /**
     * Failover: connections made before it go to the old primary, so they are evicted (idle ones now, lent ones when
     * returned; those made after it stay), and the event is raised (and logged at WARN by the logging listener). Called on the thread that was
     * connecting, in the middle of its connect (a connector, a CRITICAL borrower opening a reserve connection, or
     * the pool's start), so the work is handed to a closer thread: listeners never run inside a connect, where one
     * that borrows would wait for the connection its own thread is making.
     */
    private void primaryChanged(String from, String to, Duration outage) {
        long switchedAt = ticker.read(); // connections made from here on go to the new primary: they stay
        try {
            closer.execute(() -> {
                if (closed) {
                    return;
                }
                for (PoolEntry entry : bag.snapshot()) {
                    if (entry.createdAt - switchedAt < 0) {
                        entry.evict("failover: made to the old primary");
                        if (bag.reserve(entry)) {
                            retire(entry, "failover: made to the old primary");
                        }
                    }
                }
                requestConnections();
                events.fire(new dev.ferry.PoolEvent.Failover(poolName, from, to, outage));
            });
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // the pool is closing: nothing to evict, nobody to tell
        }
    }

    /** The host new connections go to, its password masked: with failover, the primary found last. */
    public String host() {
        return factory.host();
    }

    /** A caller gives up waiting ({@code lane}: its lane, or null). */
    private void timedOut(String lane) {
        exhaustion.timeouts.increment();
        if (metrics != null) {
            metrics.timedOut(lane);
        }
    }

    /** A caller is refused at once because the pool is overloaded. */
    private void shed(Priority priority) {
        if (metrics != null) {
            metrics.rejected("shed");
        }
        if (shedReported.compareAndSet(false, true)) {
            events.fire(new dev.ferry.PoolEvent.Shed(poolName, priority, Duration.ofNanos(overload.targetNanos()),
                    bag.waiting()));
        }
    }

    private void reportLeak(PoolEntry entry, Throwable site) {
        if (entry.borrowSite == site && PoolEntry.LEAK_REPORT.compareAndSet(entry, null, site)) {
            leaksSuspected.incrementAndGet();
            if (metrics != null) {
                metrics.leakSuspected();
            }
            events.fire(new dev.ferry.PoolEvent.LeakSuspected(poolName, entry.toString(),
                    Duration.ofNanos(ticker.read() - entry.borrowedAt), site));
        }
    }

    /**
     * Called on the borrower's thread, outside any lock, for every SQLException its connection, statements or
     * result sets throw: the exception override decides first, then Ferry's rules.
     */
    void onSqlException(PoolEntry entry, SQLException e) {
        ExceptionOverride.Decision decision = ExceptionOverride.Decision.CONTINUE_EVICT;
        if (exceptionOverride != null) {
            try {
                decision = exceptionOverride.adjudicate(e);
            } catch (RuntimeException ex) {
                LOG.warn("{} - exceptionOverride {} failed; applying Ferry's rules", poolName,
                        exceptionOverride.getClass().getName(), ex);
            }
        }
        if (decision == ExceptionOverride.Decision.MUST_EVICT
                || (decision != ExceptionOverride.Decision.DO_NOT_EVICT && fatalErrors.isFatal(e))) {
            markBroken(entry, e);
        }
    }

    /**
     * What a failed commit tells its caller (a {@code commit()}, or a {@code setAutoCommit(true)} that commits).
     * When the connection broke during the commit of a transaction that ran statements, the server may have
     * committed before the link failed, or not: the caller gets SQLState 08007 (transaction resolution unknown),
     * never a plain connection error that invites a blind retry. The driver's error is kept as it is when the
     * outcome is known: no statement ran since the last commit or rollback (nothing to lose); the driver knew the
     * connection was closed (08003: the commit was never sent, and the server rolled the transaction back); the
     * server ended the session for idling in a transaction (25P03: before any commit arrived); a feature not
     * supported (0A000); or an error that leaves the connection working (a serialization failure or a deferred
     * constraint: rolled back).
     */
    SQLException commitFailed(SQLException e, boolean statementsRan) {
        String state = e.getSQLState();
        if (!statementsRan || !fatalErrors.isFatal(e) || "08003".equals(state) || "25P03".equals(state)
                || "0A000".equals(state)) {
            return e;
        }
        SQLException unknown = new java.sql.SQLNonTransientConnectionException(poolName + " - the connection failed "
                + "during commit: the transaction may or may not have committed (outcome unknown); check before "
                + "retrying: " + e.getMessage(), "08007", e.getErrorCode(), e);
        if (e.getNextException() != null) {
            unknown.setNextException(e.getNextException());
        }
        return unknown;
    }

    void markBroken(PoolEntry entry, Exception cause) {
        if (!entry.evict) {
            noteSessionLost(cause); // once per connection: idle ones returned before now are checked before lending
            entry.evict("broken" + (cause instanceof SQLException s && s.getSQLState() != null
                    ? " (SQLState " + s.getSQLState() + ")" : "") + ": " + cause); // logged (rate-limited) as the eviction event when it is retired
            LOG.debug("{} - connection {} marked broken: {}", poolName, entry, cause.toString());
        }
    }

    // ---------------------------------------------------------------- suspension

    /** Stops lending: new borrowers wait (up to connectionTimeout) until {@link #resume()}. */
    @Override
    public void suspend() {
        requireSuspendable();
        suspended = true;
        LOG.info("{} - suspended", poolName);
    }

    @Override
    public void resume() {
        requireSuspendable();
        suspendLock.lock();
        try {
            suspended = false;
            resumed.signalAll();
        } finally {
            suspendLock.unlock();
        }
        LOG.info("{} - resumed", poolName);
        requestConnections();
    }

    @Override
    public boolean isSuspended() {
        return suspended;
    }

    /**
     * Opens connections on the calling thread until {@code connections} are open or the timeout passes (see
     * {@link dev.ferry.FerryPool#warmUp}). Each opening takes the budget like a connector's, so the background
     * fillers and borrowers never open more than the cap between them; after a failure it waits a little (10 ms,
     * doubling to 500 ms, within the timeout) and tries again.
     */
    @Override
    public dev.ferry.WarmUp warmUp(int connections, Duration timeout) {
        int max = maximumPoolSize;
        if (connections < 1 || connections > max) {
            throw new IllegalArgumentException("warmUp: got " + connections + " connections; allowed: 1 to "
                    + "maximumPoolSize (" + max + ")");
        }
        java.util.Objects.requireNonNull(timeout, "timeout");
        warmUpAsked = true;
        warmUpTarget = connections;
        long start = System.nanoTime();
        long deadline = start + Math.max(0, timeout.toNanos());
        long pause = TimeUnit.MILLISECONDS.toNanos(10);
        SQLException lastError = null;
        while (!closed && openConnections.get() - pendingCreates.get() < connections) {
            if (Thread.currentThread().isInterrupted()) {
                break; // parking would return at once: stop, and leave the flag for the caller
            }
            if (!claimWarmUpCreation(connections)) { // the rest are on their way (a filler's), or at the cap
                if (System.nanoTime() - deadline >= 0) {
                    break;
                }
                LockSupport.parkNanos(Math.min(TimeUnit.MILLISECONDS.toNanos(5), deadline - System.nanoTime()));
                continue;
            }
            try {
                PoolEntry entry = openMetered();
                pendingCreates.decrementAndGet();
                connectionsCreated.incrementAndGet();
                bag.add(entry);
                if (closed) {
                    retire(entry, "pool closed");
                    break;
                }
                bag.requite(entry);
                pause = TimeUnit.MILLISECONDS.toNanos(10);
            } catch (Throwable e) {
                pendingCreates.decrementAndGet();
                openConnections.decrementAndGet();
                if (shared != null) {
                    shared.release(false);
                }
                if (e instanceof VirtualMachineError) {
                    throw (VirtualMachineError) e;
                }
                lastError = asSqlException(e);
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                LockSupport.parkNanos(Math.min(pause, left));
                pause = Math.min(pause * 2, TimeUnit.MILLISECONDS.toNanos(500));
            }
            if (System.nanoTime() - deadline >= 0) {
                break;
            }
        }
        int open = Math.max(0, openConnections.get() - pendingCreates.get());
        if (open >= connections) {
            warmedUp = true;
        }
        dev.ferry.WarmUp result = new dev.ferry.WarmUp(connections, open, Duration.ofNanos(System.nanoTime() - start),
                lastError);
        LOG.info("{} - warm-up: {} of {} connections open after {}ms{}", poolName, open, connections,
                result.took().toMillis(), lastError == null ? "" : "; last error: " + lastError.getMessage());
        return result;
    }

    /** Takes the budget for one connection of a warm-up to {@code target}: false at the target or the cap. */
    private boolean claimWarmUpCreation(int target) {
        for (;;) {
            if (closed || suspended) {
                return false;
            }
            int open = openConnections.get();
            if (open >= Math.min(target, connectionCap())) {
                return false;
            }
            pendingCreates.incrementAndGet(); // before the budget, as claimCreation does
            if (openConnections.compareAndSet(open, open + 1)) {
                if (shared == null || shared.tryClaim()) {
                    return true;
                }
                openConnections.decrementAndGet(); // the shared budget is full: per-user pools hold the rest
                pendingCreates.decrementAndGet();
                return false;
            }
            pendingCreates.decrementAndGet();
        }
    }

    @Override
    public boolean isReady() {
        if (closed || suspended) {
            return false;
        }
        if (warmUpAsked && !warmedUp && openConnections.get() - pendingCreates.get() >= warmUpTarget) {
            warmedUp = true; // a warm-up that timed out, and the pool reached its target since
        }
        return !warmUpAsked || warmedUp;
    }

    private void requireSuspendable() {
        if (!config.allowPoolSuspension()) {
            throw new IllegalStateException(poolName + " - pool suspension is not allowed: set "
                    + "allowPoolSuspension=true to use suspend() and resume()");
        }
    }

    private void awaitResume(long deadline, long timeout) throws SQLException {
        suspendLock.lock();
        try {
            while (suspended && !closed) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw new SQLTransientConnectionException(poolName + " - pool is suspended; request timed out "
                            + "after " + TimeUnit.NANOSECONDS.toMillis(timeout) + "ms " + state(), "08001");
                }
                resumed.awaitNanos(remaining);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException(poolName + " - interrupted while the pool was suspended", "HY008", e);
        } finally {
            suspendLock.unlock();
        }
    }

    // ---------------------------------------------------------------- making and closing connections

    /**
     * Makes sure connections are being made if the pool is below its target: one filler keeps minimumIdle, up to
     * {@link #MAX_FILLERS} connect in parallel while callers wait.
     */
    void requestConnections() {
        if (closed || !needsConnection()) {
            return;
        }
        startFiller();
    }

    /** A caller starts waiting: it is demand, and it may cut a connector's back-off short. */
    private void callerWaits() {
        arrivals.increment();
        requestConnections();
        Thread sleeper = backingOff;
        if (sleeper != null) {
            LockSupport.unpark(sleeper);
        }
    }

    private void startFiller() {
        if (backOffClaimed.get()) {
            return; // the database is failing: the connector backing off is the only one, until it succeeds
        }
        for (;;) {
            int n = fillers.get();
            int limit = bag.unserved() > 0 ? MAX_FILLERS : 1;
            if (n >= limit) {
                return;
            }
            if (fillers.compareAndSet(n, n + 1)) {
                try {
                    connector.execute(this::fill);
                } catch (Throwable rejected) {
                    fillers.decrementAndGet(); // shutting down, or the thread factory failed
                    if (!(rejected instanceof RuntimeException)) {
                        LOG.warn("{} - could not start a connector thread", poolName, rejected);
                    }
                }
                return;
            }
        }
    }

    /**
     * Whether to open a connection now. With a shared budget that is full, no: another member is asked to free a
     * place for callers waiting beyond the connections idle and on their way ({@link SharedBudget#makeRoom}), and
     * the place it frees asks again.
     */
    private boolean needsConnection() {
        if (!wantsConnection()) {
            return false;
        }
        if (shared == null) {
            return true;
        }
        int wanted = unservedBeyondConnects();
        if (!shared.isFull()) {
            // Without callers of its own waiting (minimumIdle, a policy's target), a member leaves a free place to
            // another whose callers wait for one.
            return wanted > 0 || !shared.othersWait(this);
        }
        if (wanted > 0) {
            shared.makeRoom(this, wanted);
        }
        return false;
    }

    /**
     * Callers waiting beyond the connections idle and being opened, as many as this pool could open now (below its
     * own cap, not backing off after failed connects): what a shared budget's room is made for, and no more.
     */
    int unservedBeyondConnects() {
        int room = connectionCap() - openConnections.get();
        if (room <= 0 || backOffClaimed.get()) {
            return 0;
        }
        return Math.min(room, Math.max(0, bag.unserved() - bag.count(PoolEntry.IDLE) - pendingCreates.get()));
    }

    /** Whether no connection can be opened now: the pool at its cap, or the budget it shares with user pools full. */
    private boolean atCap() {
        return openConnections.get() >= connectionCap() || shared != null && shared.isFull();
    }

    /**
     * Closes a connection of ours (just returned or just opened) when nobody here waits for it and another member
     * of the shared budget has callers waiting for a place ({@link SharedBudget#yieldsReturned}); false if kept.
     */
    private boolean yieldedToOthers(PoolEntry entry) {
        if (bag.unserved() != 0 || !shared.yieldsReturned(this)) {
            return false;
        }
        entry.yielded = true; // before the close, which gives the place back as yielded
        retire(entry, "closed to make room in the shared budget");
        return true;
    }

    /** Callers waiting that no connection has been handed to yet. */
    int unserved() {
        return bag.unserved();
    }

    /**
     * Closes one idle connection so that another member of the shared budget can open one ({@link SharedBudget});
     * false if none is idle now.
     */
    boolean yieldIdle(ConnectionPool to) {
        for (PoolEntry entry : bag.snapshot()) {
            if (entry.state() == PoolEntry.IDLE && bag.reserve(entry)) {
                entry.yielded = true;
                retire(entry, "closed to make room for " + to.poolName + " in the shared budget");
                return true;
            }
        }
        return false;
    }

    /** Connections being opened count as idle-to-be, so parallel fillers do not all answer the same demand. */
    private boolean wantsConnection() {
        int open = openConnections.get();
        if (suspended || open >= connectionCap()) {
            return false;
        }
        if (open < sizer.target()) {
            return true; // the policy's target (pre-warming): in the background, before demand
        }
        int idle = 0;
        int reserved = 0;
        for (PoolEntry e : bag.snapshot()) { // one pass: an entry between the two states is counted once
            int state = e.state();
            if (state == PoolEntry.IDLE) {
                idle++;
            } else if (state == PoolEntry.RESERVED) {
                reserved++;
            }
        }
        int ready = idle + pendingCreates.get();
        // A connection the pool itself holds for a moment (a keepalive check, the server share's query) still counts
        // toward minimumIdle: else the pool would open one each time it looks at its only idle one. It does not
        // count for waiting callers, who should not wait for the pool's own query to end.
        boolean belowMinimumIdle = ready + reserved < minimumIdle;
        int unserved = bag.unserved();
        if (!belowMinimumIdle && unserved <= ready) {
            return false;
        }
        // Callers wait, or idle connections are below minimumIdle. Without a policy, open (HikariCP's rule); with
        // one, only if it agrees: for reactive sizing, only if lent connections will not come back first.
        return sizer.grow(unserved > ready);
    }

    /** The most connections the pool may open now: maximumPoolSize, lowered by the server-aware cap. */
    @Override
    public int connectionCap() {
        return Math.min(maximumPoolSize, sizer.serverCap());
    }

    /** Takes a place in the budget for one more connection, if one is needed and the budget allows. */
    private boolean claimCreation() {
        for (;;) {
            if (closed || !needsConnection()) {
                return false;
            }
            pendingCreates.incrementAndGet(); // before the budget, so other fillers see it as on its way
            int open = openConnections.get();
            int cap = connectionCap();
            if (open < cap && openConnections.compareAndSet(open, open + 1)) {
                if (shared == null || shared.tryClaim()) {
                    return true;
                }
                openConnections.decrementAndGet(); // taken by another member since needsConnection looked: the
                pendingCreates.decrementAndGet();  // place it gives back asks us again
                return false;
            }
            pendingCreates.decrementAndGet();
            if (open >= cap) {
                return false;
            }
        }
    }

    /** Opens a connection for the pool's budget, timing the connect for the sizing meter and the metrics. */
    private PoolEntry openMetered() throws SQLException {
        long connectStart = ticker.read();
        PoolEntry entry = factory.open();
        long connectNanos = ticker.read() - connectStart;
        sizer.meter.connected(connectNanos);
        if (metrics != null) {
            metrics.created(connectNanos);
        }
        return entry;
    }

    /** Runs on a connector thread: makes connections until the pool is at its target. */
    private void fill() {
        boolean gaveWay;
        try {
            gaveWay = fillWhileNeeded();
        } finally {
            fillers.decrementAndGet();
        }
        // A caller may have found every filler busy just before we stopped: look at the demand once more. (Not
        // after giving way to the connector that backs off: restarting here would retry without any back-off.)
        if (!gaveWay && !closed && needsConnection()) {
            startFiller();
        }
    }

    /** @return true if it stopped after a failed connect because another connector is backing off */
    private boolean fillWhileNeeded() {
        long backoff = BACKOFF_MIN_NANOS;
        boolean backingOffHere = false; // holds backOffClaimed from the first failure until a success or the end
        try {
            while (claimCreation()) {
                PoolEntry entry;
                try {
                    entry = openMetered();
                } catch (Throwable e) {
                    pendingCreates.decrementAndGet();
                    openConnections.decrementAndGet();
                    if (shared != null) {
                        shared.release(false);
                    }
                    if (e instanceof VirtualMachineError) {
                        throw (VirtualMachineError) e; // out of memory and the like: not the database's fault
                    }
                    lastConnectFailure = asSqlException(e);
                    if (!backingOffHere && !backOffClaimed.compareAndSet(false, true)) {
                        return true; // the database is failing and another connector backs off: stop
                    }
                    backingOffHere = true;
                    LOG.debug("{} - could not open a connection (retrying in {}ms or when a caller waits): {}",
                            poolName, TimeUnit.NANOSECONDS.toMillis(backoff), e.toString());
                    backOff(backoff);
                    backoff = Math.min(backoff * 2, backoffCap(lastConnectFailure));
                    continue;
                }
                pendingCreates.decrementAndGet();
                if (backingOffHere) {
                    backingOffHere = false;
                    backOffClaimed.set(false);
                }
                backoff = BACKOFF_MIN_NANOS;
                lastConnectFailure = null;
                connectionsCreated.incrementAndGet();
                LOG.debug("{} - opened {}", poolName, entry);
                bag.add(entry);
                if (closed) {
                    // close() set the flag before it looked at the bag; we added before looking at the flag, so
                    // either close() saw this entry or we see closed here. Retire it ourselves.
                    retire(entry, "pool closed");
                    return false;
                }
                // Opened for a demand that has gone (minimumIdle, or a caller served meanwhile) while another
                // member's callers wait for a place: theirs, rather than idle here. (Not a pool's first: a new user
                // pool's first borrower may be between two waits.)
                if (shared != null && connectionsCreated.get() > 1 && yieldedToOthers(entry)) {
                    return false;
                }
                bag.requite(entry);
                startFiller(); // the database answers: while callers wait, connect in parallel
            }
            return false;
        } finally {
            if (backingOffHere) {
                backOffClaimed.set(false);
            }
        }
    }

    /**
     * Sleeps out a back-off step. A caller who starts waiting meanwhile cuts it short, but attempts come no
     * closer together than {@link #CUT_SHORT_FLOOR_NANOS}, and never after an authentication failure (SQLState
     * class 28), which must not turn into a login storm that locks the account.
     */
    private void backOff(long nanos) {
        SQLException last = lastConnectFailure;
        boolean cutShort = last == null || last.getSQLState() == null || !last.getSQLState().startsWith("28");
        long start = System.nanoTime();
        long until = start + nanos;
        long earliest = start + Math.min(nanos, CUT_SHORT_FLOOR_NANOS);
        long seen = arrivals.sum();
        backingOff = Thread.currentThread();
        try {
            for (;;) {
                long now = System.nanoTime();
                if (closed || now - until >= 0) {
                    return;
                }
                if (cutShort && now - earliest >= 0 && arrivals.sum() != seen && bag.unserved() > 0) {
                    return;
                }
                long wake = cutShort && now - earliest < 0 ? earliest : until;
                LockSupport.parkNanos(this, wake - now);
            }
        } finally {
            backingOff = null;
        }
    }

    /**
     * The back-off's cap: shorter with failover on (each attempt also looks for a promoted replica), but never
     * after an authentication failure, where retrying faster only locks accounts and floods logs sooner.
     */
    private long backoffCap(SQLException last) {
        boolean authentication = last != null && last.getSQLState() != null && last.getSQLState().startsWith("28");
        return authentication ? BACKOFF_MAX_NANOS : backoffMaxNanos;
    }

    private static SQLException asSqlException(Throwable e) {
        return e instanceof SQLException ? (SQLException) e : new SQLException(e.toString(), "08001", e);
    }

    /** Takes an owned entry out of the pool and closes it in the background; makes a replacement if needed. */
    private void retire(PoolEntry entry, String reason) {
        if (bag.remove(entry)) {
            close(entry, reason);
        }
    }

    /** Retires an owned entry only if the pool is still above maximumPoolSize, deciding under the bag's lock. */
    private boolean retireIfOversized(PoolEntry entry) {
        if (bag.removeIfOver(entry, connectionCap() + reserveOpen.get())) {
            close(entry, "pool shrunk");
            return true;
        }
        return false;
    }

    /**
     * Closes a removed entry on the closer pool. Its place in the budget is given back when the close finishes,
     * or after validationTimeout if it has not, whichever is first (see the class notes).
     */
    private void close(PoolEntry entry, String reason) {
        if (metrics != null) {
            metrics.evicted(reason);
        }
        events.fire(new dev.ferry.PoolEvent.ConnectionEvicted(poolName, entry.toString(), reason));
        AtomicBoolean counted = new AtomicBoolean(true);
        Runnable uncount = () -> {
            if (counted.compareAndSet(true, false)) {
                (entry.reserve ? reserveOpen : openConnections).decrementAndGet();
                if (shared != null && !entry.reserve) {
                    shared.release(entry.yielded); // asks the members with callers waiting, this one included
                    if (!entry.yielded) {
                        requestConnections(); // (a place freed for another member is not taken back for minimumIdle)
                    }
                } else {
                    requestConnections();
                }
            }
        };
        Future<?>[] grace = new Future<?>[1];
        Runnable close = () -> {
            try {
                if (interceptors != null) {
                    interceptors.destroy(entry.connection, reason);
                }
                factory.close(entry);
            } finally {
                uncount.run();
                Future<?> g = grace[0];
                if (g != null) {
                    g.cancel(false);
                }
            }
        };
        if (!closed) {
            try { // counted from when the close is queued: closes stuck behind hung ones must not stop refilling
                grace[0] = scheduler.schedule(uncount, Duration.ofNanos(validationNanos));
            } catch (RuntimeException refused) {
                // no grace: the place is given back when the close ends
            }
        }
        try {
            closer.execute(close);
        } catch (RuntimeException rejected) {
            close.run(); // closer already shut down: close on this thread
        }
    }

    /**
     * Runs a driver's network-timeout change at once, on the calling thread. MySQL's Connector/J applies the
     * change on the executor it is given; on a pool of threads a "set" and the "restore" after it could run in
     * either order (HikariCP uses a synchronous executor for MySQL for the same reason).
     */
    static final Executor DIRECT = Runnable::run;

    Executor networkTimeoutExecutor() {
        return DIRECT;
    }

    // ---------------------------------------------------------------- housekeeping

    private void scheduleHousekeeping() {
        if (!closed) {
            housekeeping = scheduler.schedule(this::housekeep, config.housekeepingPeriod());
        }
    }

    /**
     * One housekeeping pass: retire idle connections past idleTimeout (down to minimumIdle) and idle ones past
     * their lifetime, probe idle ones due a keepalive, mark lent ones past their lifetime for retirement on
     * return, then refill. Re-arms itself.
     */
    void housekeep() {
        try {
            long now = ticker.read();
            int idle = bag.count(PoolEntry.IDLE);
            int sizingTarget = sizer.target();
            int cap = connectionCap();
            for (PoolEntry entry : bag.snapshot()) {
                boolean expired = entry.retires && now - entry.retireAt >= 0;
                if (entry.state() == PoolEntry.IN_USE) {
                    if (expired) {
                        entry.evict(entry.ageReason());
                    }
                    continue;
                }
                boolean idleTooLong = idleTimeoutNanos > 0 && idle > minimumIdle
                        && bag.size() - reserveOpen.get() > sizingTarget
                        && now - entry.lastAccessed >= idleTimeoutNanos;
                boolean shrink = bag.size() - reserveOpen.get() > cap;
                boolean keepalive = keepaliveNanos > 0 && now - entry.lastAlive >= keepaliveNanos;
                if (!(expired || idleTooLong || shrink || entry.evict || keepalive) || !bag.reserve(entry)) {
                    continue;
                }
                if (expired || idleTooLong || entry.evict) {
                    idle--;
                    retire(entry, expired ? entry.ageReason() : idleTooLong ? "idle timeout" : entry.evictReason());
                } else if (shrink) {
                    if (retireIfOversized(entry)) {
                        idle--;
                    } else {
                        bag.unreserve(entry);
                    }
                } else if (factory.isAlive(entry, validationNanos)) {
                    entry.lastAlive = ticker.read();
                    bag.unreserve(entry);
                } else {
                    idle--;
                    retire(entry, "failed keepalive");
                }
            }
            requestConnections();
            if (exhaustion.isExhausted()) {
                checkRecovered(ticker.read()); // no connection may come back to notice it
            }
        } catch (RuntimeException e) {
            LOG.warn("{} - housekeeping failed", poolName, e);
        } finally {
            scheduleHousekeeping();
        }
    }

    // ---------------------------------------------------------------- sizing

    /** What the pool looks like now, for the sizing policy. */
    dev.ferry.capacity.PoolLoad load() {
        return load(false);
    }

    /**
     * What the pool looks like now; with {@code endPeriod}, also ends the usage meter's period (the sizing
     * period's tick), adding the lent time of the connections still out.
     */
    dev.ferry.capacity.PoolLoad load(boolean endPeriod) {
        long now = ticker.read();
        long periodStart = sizer.meter.periodStart();
        long busyOfLent = 0;
        int active = 0;
        int idle = 0;
        int measured = 0;
        long ages = 0;
        int used = 0;
        for (PoolEntry e : bag.snapshot()) {
            int state = e.state();
            if (state == PoolEntry.IN_USE || e.lentAt - periodStart >= 0) {
                used++; // out now, or lent during this period (a connection opened and never lent is not counted)
            }
            if (state == PoolEntry.IDLE) {
                idle++;
            } else if (state == PoolEntry.IN_USE) {
                active++;
                if (e.lentAt - e.lastAccessed >= 0) { // lent since its last return (else: being checked, or new)
                    measured++;
                    ages += now - e.lentAt;
                    busyOfLent += now - (e.lentAt - periodStart > 0 ? e.lentAt : periodStart);
                }
            }
        }
        return new dev.ferry.capacity.PoolLoad(now, java.time.ZonedDateTime.now(config.clock()),
                openConnections.get(), active, idle, bag.unserved(), pendingCreates.get(), connectionCap(),
                minimumIdle, sizer.meter.meanHoldNanos(), measured == 0 ? 0 : ages / measured,
                sizer.meter.meanConnectNanos(),
                endPeriod ? sizer.meter.endPeriod(now, busyOfLent) : sizer.meter.lastDemand(), used);
    }

    /**
     * Retires idle connections that have been idle {@code idleNanos} or more while the pool holds more than
     * {@code floor} (and more than minimumIdle idle): the policy's shrink. Lent connections are never touched.
     */
    void retireIdleAbove(int floor, long idleNanos) {
        long now = ticker.read();
        int idle = bag.count(PoolEntry.IDLE);
        for (PoolEntry entry : bag.snapshot()) {
            if (bag.size() - reserveOpen.get() <= floor || idle <= minimumIdle) {
                return;
            }
            if (entry.state() == PoolEntry.IDLE && now - entry.lastAccessed >= idleNanos && bag.reserve(entry)) {
                idle--;
                retire(entry, "idle above the sizing target");
            }
        }
    }

    /** Work on a physical connection (the pool's own queries). */
    interface ConnectionWork<T> {
        T apply(Connection connection) throws SQLException;
    }

    /**
     * Runs {@code work} on an idle connection, claimed as housekeeping claims one so nobody borrows it meanwhile;
     * null if none is idle. A transaction the work opened (autocommit off) is rolled back; if the work fails, the
     * connection is kept if it still validates, and retired otherwise.
     */
    <T> T withIdleConnection(ConnectionWork<T> work) throws SQLException {
        for (PoolEntry entry : bag.snapshot()) {
            if (entry.state() != PoolEntry.IDLE || entry.evict || !bag.reserve(entry)) {
                continue;
            }
            boolean failed = true;
            try {
                T result = work.apply(entry.connection);
                failed = false;
                return result;
            } finally {
                // A transaction the work opened (autocommit off) ends here, whether the work failed or not. A
                // failed query does not make a connection broken: it is kept if it is still alive.
                boolean usable = !entry.evict;
                if (usable && !entry.autoCommit) {
                    try {
                        entry.connection.rollback();
                    } catch (SQLException | RuntimeException e) {
                        usable = false;
                    }
                }
                if (usable && failed) {
                    usable = factory.isAlive(entry, validationNanos);
                }
                if (usable) {
                    bag.unreserve(entry);
                } else {
                    retire(entry, "broken during a pool query");
                }
            }
        }
        return null;
    }

    int validationSeconds() {
        return (int) Math.max(1, TimeUnit.NANOSECONDS.toSeconds(validationNanos + 999_999_999L));
    }

    @Override
    public int sizingTarget() {
        return sizer.target();
    }

    @Override
    public dev.ferry.capacity.SizingPolicy sizingPolicy() {
        return sizer.policy();
    }

    @Override
    public void setSizingPolicy(dev.ferry.capacity.SizingPolicy policy) {
        resizeLock.lock(); // validated against sizes no concurrent resize is changing
        try {
            if (policy != null) {
                policy.validate(maximumPoolSize, minimumIdle);
            }
            sizer.setPolicy(policy);
        } finally {
            resizeLock.unlock();
        }
        LOG.info("{} - sizing policy now {}", poolName, policy == null ? "none (HikariCP's)" : policy);
    }

    @Override
    public dev.ferry.capacity.ServerShare serverShare() {
        return sizer.share();
    }

    @Override
    public java.util.List<dev.ferry.capacity.LaneBudget.LaneState> lanes() {
        return lanes == null ? java.util.List.of() : lanes.state(lentByLane());
    }

    @Override
    public void setLane(dev.ferry.capacity.Lane lane) {
        if (lanes == null) {
            throw new IllegalStateException(poolName + " - no lanes configured; lanes are set when the pool is built "
                    + "(FerryConfig.Builder.lane), and changed here");
        }
        resizeLock.lock(); // against a concurrent setMaximumPoolSize checking the lanes it is about to change
        try {
            lanes.reconfigure(lane, maximumPoolSize);
        } finally {
            resizeLock.unlock();
        }
        LOG.info("{} - lane now {}", poolName, lane);
    }

    @Override
    public int reserve() {
        return reserve;
    }

    @Override
    public void setReserve(int reserve) {
        if (reserve < 0 || reserve > 10_000) {
            throw new IllegalArgumentException("reserve: got " + reserve + "; allowed: 0 (no reserve) to 10000");
        }
        this.reserve = reserve; // reserve connections above the new size close when returned, as all of them do
        LOG.info("{} - reserve now {}", poolName, reserve);
    }

    // ---------------------------------------------------------------- errors

    private SQLException closedException() {
        return new SQLException(poolName + " - pool is closed", "08003");
    }

    private SQLTransientConnectionException timeoutException(long timeoutNanos) {
        SQLException cause = lastConnectFailure;
        String message = poolName + " - connection is not available, request timed out after "
                + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + "ms " + state()
                + (cause == null ? "" : "; last connection error: " + cause.getMessage());
        String sqlState = cause != null && cause.getSQLState() != null ? cause.getSQLState() : "08001";
        return new SQLTransientConnectionException(message, sqlState, cause);
    }

    private SQLTransientConnectionException rejectedException() {
        return new SQLTransientConnectionException(poolName + " - connection is not available and "
                + config.maxWaiting() + " callers are already waiting (maxWaiting=" + config.maxWaiting()
                + "); rejected without waiting " + state(), "08001");
    }

    private void closeMetrics() {
        if (metrics != null) {
            metrics.close(); // guarded: a failure is logged
        }
    }

    private String state() {
        return "(total=" + totalConnections() + ", active=" + activeConnections() + ", idle=" + idleConnections()
                + ", waiting=" + waitingThreads() + ")";
    }

    // ---------------------------------------------------------------- FerryPool

    /** The configuration this pool started with. */
    public FerryConfig config() {
        return config;
    }

    /** The budget shared with per-user pools, or null (see {@link SharedBudget}). */
    SharedBudget sharedBudget() {
        return shared;
    }

    /** Where this pool's periodic work runs: per-user pools share it. */
    Scheduler scheduler() {
        return scheduler;
    }

    /** Whether this pool's new connections log in as {@code user} with {@code password} (see ConnectionFactory). */
    boolean logsInAs(String user, String password) {
        return factory.logsInAs(user, password);
    }

    /** The last connect's error, until a connect succeeds. */
    SQLException lastConnectFailure() {
        return lastConnectFailure;
    }

    @Override
    public String poolName() {
        return poolName;
    }

    @Override
    public int totalConnections() {
        return bag.size();
    }

    @Override
    public int activeConnections() {
        return bag.count(PoolEntry.IN_USE);
    }

    @Override
    public int idleConnections() {
        return bag.count(PoolEntry.IDLE);
    }

    @Override
    public int waitingThreads() {
        return bag.waiting();
    }

    /** Physical connections open or being opened or closed: what the database sees (the reserve apart). */
    public int openConnections() {
        return openConnections.get();
    }

    /** Every session this pool holds on the database: its budget's and its emergency reserve's. */
    int sessionsOpen() {
        return openConnections.get() + reserveOpen.get();
    }

    /** Runs pool work off the scheduler's thread (the server-share query), on the closer's threads. */
    void runInBackground(Runnable task) {
        closer.execute(task);
    }

    /** Times a connection stayed out longer than leakDetectionThreshold. */
    public int leaksSuspected() {
        return leaksSuspected.get();
    }

    /** Physical connections made since start. */
    public int connectionsCreated() {
        return connectionsCreated.get();
    }

    @Override
    public int maximumPoolSize() {
        return maximumPoolSize;
    }

    @Override
    public int minimumIdle() {
        return minimumIdle;
    }

    @Override
    public void setMaximumPoolSize(int size) {
        int oldSize;
        resizeLock.lock();
        try {
            if (size < 1 || (size < minimumIdle && !minimumIdleFollowsMaximum)) {
                throw new IllegalArgumentException("maximumPoolSize: got " + size + "; allowed: at least 1 and at "
                        + "least the minimumIdle set (" + minimumIdle + ")");
            }
            if (lanes != null) {
                lanes.checkBudget(size); // the lanes' minimums must still fit
            }
            dev.ferry.capacity.SizingPolicy policy = sizer.policy();
            if (policy != null) {
                policy.validate(size, Math.min(minimumIdle, size)); // as when set: asking for more than size fails
            }
            if (minimumIdleFollowsMaximum && minimumIdle > size) {
                LOG.info("{} - adapted minimumIdle {} -> {} (default; follows the maximumPoolSize set)", poolName,
                        minimumIdle, size);
                minimumIdle = size;
            }
            oldSize = maximumPoolSize;
            maximumPoolSize = size;
        } finally {
            resizeLock.unlock();
        }
        if (oldSize != size) {
            events.fire(new dev.ferry.PoolEvent.Resized(poolName, oldSize, size));
        }
        if (lanes != null) {
            lanes.rebalance(); // caps bind or stop binding against the new budget: waiters at a cap look again
        }
        for (PoolEntry entry : bag.snapshot()) {
            if (bag.size() <= size) {
                break;
            }
            if (bag.reserve(entry) && !retireIfOversized(entry)) {
                bag.unreserve(entry);
            }
        }
        requestConnections();
    }

    @Override
    public void setMinimumIdle(int minimumIdle) {
        resizeLock.lock();
        try {
            if (minimumIdle < 0 || minimumIdle > maximumPoolSize) {
                throw new IllegalArgumentException("minimumIdle: got " + minimumIdle + "; allowed: 0 to "
                        + "maximumPoolSize (" + maximumPoolSize + ")");
            }
            dev.ferry.capacity.SizingPolicy policy = sizer.policy();
            if (policy != null) {
                policy.validate(maximumPoolSize, minimumIdle);
            }
            this.minimumIdle = minimumIdle;
            minimumIdleFollowsMaximum = false;
        } finally {
            resizeLock.unlock();
        }
        requestConnections();
    }

    /** Changes how long borrowers wait; effective for the next borrow. Zero means no limit, as in HikariCP. */
    public void setConnectionTimeout(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("connectionTimeout: got " + timeout
                    + "; allowed: 0 (no limit) or a positive duration");
        }
        long nanos = (timeout.isZero() ? Duration.ofMillis(Integer.MAX_VALUE) : timeout).toNanos();
        minValidationNanos = Math.min(MIN_VALIDATION_NANOS, nanos / 2);
        connectionTimeoutNanos = nanos;
    }

    /** How long borrowers wait now, in milliseconds. */
    public long connectionTimeoutMillis() {
        return TimeUnit.NANOSECONDS.toMillis(connectionTimeoutNanos);
    }

    /** Changes the leak threshold; effective for the next borrow. Zero turns detection off. */
    public void setLeakDetectionThreshold(Duration threshold) {
        if (threshold == null || threshold.isNegative()) {
            throw new IllegalArgumentException("leakDetectionThreshold: got " + threshold
                    + "; allowed: 0 (off) or a positive duration");
        }
        leakThresholdNanos = threshold.toNanos();
    }

    /** New credentials for connections opened from now on (a rotated password); open connections keep theirs. */
    public void setCredentials(String username, String password) {
        factory.setCredentials(username, password);
        LOG.info("{} - credentials changed; new connections use them", poolName);
    }

    @Override
    public void softEvictConnections() {
        for (PoolEntry entry : bag.snapshot()) {
            entry.evict("soft eviction");
            if (bag.reserve(entry)) {
                retire(entry, "soft eviction");
            }
        }
        requestConnections();
    }

    /**
     * Evicts the physical connection behind a borrowed proxy: it is never lent again, and is rolled back and
     * closed when the borrower closes the proxy (HikariCP closes it at once, from under the borrower).
     *
     * @return false if {@code connection} is not an open connection of this pool
     */
    @Override
    public boolean evictConnection(Connection connection) {
        if (connection instanceof ProxyConnection) {
            ProxyConnection proxy = (ProxyConnection) connection;
            if (proxy.pool == this && !proxy.isClosedByPool()) {
                proxy.entry.evict("evicted by the application");
                LOG.debug("{} - connection {} evicted by the application", poolName, proxy.entry);
                return true;
            }
        }
        return false;
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Drains and closes: stops lending (waiters fail at once), closes idle connections, waits up to
     * shutdownTimeout for lent ones to come back, then closes those too. A connect under way is let finish (up to
     * 5 s more, bounded by the driver's login timeout) so that its connection is closed as well, before this
     * returns. An interrupted caller stops waiting at once (its interrupt is kept) and lent connections are
     * closed right away.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        dev.ferry.observe.PoolMBeans beans = mbeans;
        if (beans != null) {
            beans.unregister();
        }
        sizer.stop();
        if (lanes != null) {
            lanes.close();
        }

        Future<?> hk = housekeeping;
        if (hk != null) {
            hk.cancel(false);
        }
        bag.close();
        suspendLock.lock();
        try {
            resumed.signalAll();
        } finally {
            suspendLock.unlock();
        }
        long deadline = System.nanoTime() + config.shutdownTimeout().toNanos();
        do {
            for (PoolEntry entry : bag.snapshot()) {
                if (bag.reserve(entry)) {
                    retire(entry, "pool closed");
                }
            }
            if (bag.size() == 0 || Thread.currentThread().isInterrupted()) {
                break;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        } while (System.nanoTime() - deadline < 0);
        for (PoolEntry entry : bag.snapshot()) {
            LOG.warn("{} - closing {} still lent after shutdownTimeout ({}ms)", poolName, entry,
                    config.shutdownTimeout().toMillis());
            entry.evict("pool closed");
            try {
                entry.connection.abort(closer);
            } catch (SQLException | RuntimeException | LinkageError e) {
                LOG.debug("{} - abort failed: {}", poolName, e.toString());
            }
            retire(entry, "pool closed");
        }
        shutdownExecutors();
        if (shared != null) {
            shared.leave(this);
        }
        closeMetrics(); // last: a borrow or return racing the close still finds its meters
        LOG.info("{} - closed", poolName);
    }

    private void shutdownExecutors() {
        // A connect under way finishes (or fails) first, uninterrupted, and its connection is retired to the closer
        // below, not closed on the connector's thread after close() has returned: interrupting it would make
        // pgjdbc give up waiting while its own thread goes on connecting. Connectors see closed and stop after
        // that connect; one backing off wakes now.
        connector.shutdown();
        Thread sleeper = backingOff;
        if (sleeper != null) {
            LockSupport.unpark(sleeper);
        }
        boolean interrupted = Thread.interrupted();
        try {
            if (interrupted || !connector.awaitTermination(5, TimeUnit.SECONDS)) {
                connector.shutdownNow();
                if (!interrupted) {
                    LOG.warn("{} - a connect did not finish within 5 s of close; it is closed when it does", poolName);
                }
            }
        } catch (InterruptedException e) {
            interrupted = true;
            connector.shutdownNow();
        }
        closer.shutdown();
        try {
            if (interrupted || !closer.awaitTermination(5, TimeUnit.SECONDS)) {
                runLeftoverCloses();
            }
        } catch (InterruptedException e) {
            interrupted = true;
            runLeftoverCloses();
        } finally {
            if (ownScheduler != null) {
                ownScheduler.shutdownNow();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Closes still queued run here, each bounded by its network timeout: none is dropped unclosed. */
    private void runLeftoverCloses() {
        for (Runnable queued : closer.shutdownNow()) {
            try {
                queued.run();
            } catch (RuntimeException | LinkageError e) {
                LOG.debug("{} - closing a connection at shutdown failed: {}", poolName, e.toString());
            }
        }
    }

    @Override
    public String toString() {
        return "ConnectionPool{" + poolName + " " + state() + "}";
    }
}
