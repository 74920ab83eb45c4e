package dev.ferry.pool;

import dev.ferry.FerryConfig;
import dev.ferry.FerryPool;
import dev.ferry.Scheduler;
import dev.ferry.Ticker;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
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
 * have died is not lent; it is retired and the borrower tries again within its own deadline.
 *
 * <p><b>Budget.</b> {@link #openConnections} counts physical connections from the moment a connect starts until
 * the close has finished, and one connector thread makes connections one at a time only while that count is
 * below {@code maximumPoolSize}. A retiring connection still counts until it is really closed, so the database
 * never sees more than the budget, even while connections are being replaced.
 *
 * <p><b>Creation</b> happens on the connector thread, never on a borrower's: borrowers wait in the bag, and
 * each new connection goes to the oldest waiter. Failures back off exponentially (10 ms to 1 s) and the last
 * error is kept, so a borrower that times out while the database is down gets it as the cause. When the database
 * comes back the next attempt succeeds and the pool refills by itself: there is no state that sticks at zero.
 *
 * <p><b>Retirement</b> never takes a connection from a borrower. Lifetime (with per-connection jitter of up to
 * 2.5%, so connections made together do not all retire together), fatal errors and pool shrinking set
 * {@code evict}; the connection is closed when it is returned, or by housekeeping if it is idle.
 *
 * <p><b>Time.</b> Ages (idle, lifetime, keepalive, validation bypass) are read from the configured
 * {@link Ticker}; periodic work is scheduled on the configured {@link Scheduler}, so tests advance both by hand.
 * Waiting for a connection uses the JVM's clock, because it parks a real thread.
 */
public final class ConnectionPool implements FerryPool, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionPool.class);

    /** A connection used this recently is lent without validation (HikariCP uses the same 500 ms window). */
    private static final long ALIVE_BYPASS_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long BACKOFF_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long BACKOFF_MAX_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final FerryConfig config;
    private final String poolName;
    private final ConnectionBag bag = new ConnectionBag();
    private final Ticker ticker;
    private final Scheduler scheduler;
    private final ScheduledThreadPoolExecutor ownScheduler;
    private final ThreadPoolExecutor connector;
    private final ThreadPoolExecutor closer;
    private final Properties driverProperties;

    final boolean defaultAutoCommit;
    final boolean defaultReadOnly;
    final int queryTimeoutSeconds;
    private final long idleTimeoutNanos;
    private final long maxLifetimeNanos;
    private final long keepaliveNanos;
    private final int validationSeconds;

    private volatile int maximumPoolSize;
    private volatile int minimumIdle;
    private volatile long connectionTimeoutNanos;
    private volatile long leakThresholdNanos;

    private final AtomicInteger openConnections = new AtomicInteger();
    private final AtomicBoolean filling = new AtomicBoolean();
    private final AtomicInteger connectionsCreated = new AtomicInteger();
    private final AtomicInteger leaksSuspected = new AtomicInteger();
    private volatile SQLException lastConnectFailure;
    private volatile boolean closed;
    private volatile Future<?> housekeeping;

    /**
     * Starts a pool: checks the database per {@code initializationFailTimeout}, then fills to minimumIdle in the
     * background and starts housekeeping.
     *
     * @throws SQLException if the first connection cannot be made within initializationFailTimeout
     */
    public ConnectionPool(FerryConfig config) throws SQLException {
        this.config = config;
        this.poolName = config.poolName();
        this.ticker = config.ticker();
        this.defaultAutoCommit = config.autoCommit();
        this.defaultReadOnly = config.readOnly();
        this.queryTimeoutSeconds = (int) config.queryTimeout().toSeconds();
        this.idleTimeoutNanos = config.idleTimeout().toNanos();
        this.maxLifetimeNanos = config.maxLifetime().toNanos();
        this.keepaliveNanos = config.keepaliveTime().toNanos();
        this.validationSeconds = (int) Math.max(1, (config.validationTimeout().toMillis() + 999) / 1000);
        this.maximumPoolSize = config.maximumPoolSize();
        this.minimumIdle = config.minimumIdle();
        this.connectionTimeoutNanos = config.connectionTimeout().toNanos();
        this.leakThresholdNanos = config.leakDetectionThreshold().toNanos();
        this.driverProperties = config.dataSourceProperties();
        if (config.username() != null) {
            driverProperties.setProperty("user", config.username());
        }
        if (config.password() != null) {
            driverProperties.setProperty("password", config.password());
        }
        this.connector = singleThread("connector");
        this.closer = singleThread("closer");
        if (config.scheduler() != null) {
            this.scheduler = config.scheduler();
            this.ownScheduler = null;
        } else {
            this.ownScheduler = new ScheduledThreadPoolExecutor(1, daemon("housekeeper"));
            this.ownScheduler.setRemoveOnCancelPolicy(true);
            this.scheduler = (task, delay) -> ownScheduler.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
        }
        try {
            checkDatabase();
        } catch (SQLException | RuntimeException e) {
            shutdownExecutors();
            throw e;
        }
        scheduleHousekeeping();
        requestConnections();
        LOG.info("{} - started: {}", poolName, config);
    }

    private ThreadPoolExecutor singleThread(String role) {
        ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 5, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                daemon(role));
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    private java.util.concurrent.ThreadFactory daemon(String role) {
        return runnable -> {
            Thread t = new Thread(runnable, poolName + "-" + role);
            t.setDaemon(true);
            return t;
        };
    }

    /** Makes the first connection per initializationFailTimeout and keeps it in the pool. */
    private void checkDatabase() throws SQLException {
        Duration failTimeout = config.initializationFailTimeout();
        if (failTimeout.isNegative()) {
            return;
        }
        long deadline = System.nanoTime() + failTimeout.toNanos();
        long backoff = BACKOFF_MIN_NANOS;
        for (;;) {
            openConnections.incrementAndGet();
            try {
                PoolEntry entry = createEntry();
                bag.add(entry);
                bag.requite(entry);
                return;
            } catch (SQLException e) {
                openConnections.decrementAndGet();
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw new SQLException(poolName + " - could not open a first connection to "
                            + config.maskedJdbcUrl() + " within initializationFailTimeout ("
                            + failTimeout.toMillis() + "ms): " + e.getMessage(), e.getSQLState(), e);
                }
                LockSupport.parkNanos(Math.min(backoff, remaining));
                backoff = Math.min(backoff * 2, BACKOFF_MAX_NANOS);
            }
        }
    }

    // ---------------------------------------------------------------- borrowing

    /** Lends a connection, waiting up to connectionTimeout. */
    public Connection getConnection() throws SQLException {
        if (closed) {
            throw closedException();
        }
        long now = ticker.read();
        PoolEntry entry = bag.poll();
        if (entry == null || !lendable(entry, now)) {
            entry = borrowSlow();
            now = ticker.read();
        }
        return lend(entry, now);
    }

    private PoolEntry borrowSlow() throws SQLException {
        long timeout = connectionTimeoutNanos;
        long deadline = System.nanoTime() + timeout;
        for (;;) {
            PoolEntry entry = bag.poll();
            if (entry == null) {
                requestConnections();
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw timeoutException(timeout);
                }
                try {
                    entry = bag.await(remaining, config.maxWaiting());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException(poolName + " - interrupted while waiting for a connection", "HY008", e);
                }
                if (entry == ConnectionBag.REJECTED) {
                    throw rejectedException();
                }
                if (entry == null) {
                    if (closed) {
                        throw closedException();
                    }
                    throw timeoutException(timeout);
                }
            }
            if (closed) {
                release(entry);
                throw closedException();
            }
            if (lendable(entry, ticker.read())) {
                return entry;
            }
        }
    }

    /** Checks an entry the caller just took; retires it and returns false if it must not be lent. */
    private boolean lendable(PoolEntry entry, long now) {
        if (entry.evict || (maxLifetimeNanos > 0 && now - entry.retireAt >= 0)) {
            retire(entry, entry.evict ? "evicted" : "lifetime reached");
            return false;
        }
        if (now - entry.lastAccessed > ALIVE_BYPASS_NANOS) {
            if (!isAlive(entry)) {
                retire(entry, "failed validation before lending");
                return false;
            }
            entry.lastAlive = now;
        }
        return true;
    }

    private Connection lend(PoolEntry entry, long now) {
        entry.lastAccessed = now;
        long leakThreshold = leakThresholdNanos;
        if (leakThreshold > 0) {
            Throwable site = new Exception("connection borrowed here by thread " + Thread.currentThread().getName());
            entry.borrowSite = site;
            entry.borrowedAt = now;
            entry.leakCheck = scheduler.schedule(() -> reportLeak(entry, site), Duration.ofNanos(leakThreshold));
        }
        return new ProxyConnection(this, entry);
    }

    /** Takes a connection back from a closed proxy. */
    void release(PoolEntry entry) {
        Future<?> leakCheck = entry.leakCheck;
        if (leakCheck != null) {
            entry.leakCheck = null;
            entry.borrowSite = null;
            leakCheck.cancel(false);
        }
        long now = ticker.read();
        entry.lastAccessed = now;
        if (entry.evict || closed || (maxLifetimeNanos > 0 && now - entry.retireAt >= 0)
                || bag.size() > maximumPoolSize) {
            retire(entry, entry.evict ? "evicted" : closed ? "pool closed" : "lifetime reached or pool shrunk");
            return;
        }
        bag.requite(entry);
    }

    private void reportLeak(PoolEntry entry, Throwable site) {
        if (entry.borrowSite == site) {
            leaksSuspected.incrementAndGet();
            LOG.warn("{} - connection leak suspected: {} has been out for more than {}ms; stack of the borrower "
                    + "follows", poolName, entry, TimeUnit.NANOSECONDS.toMillis(leakThresholdNanos), site);
        }
    }

    void markBroken(PoolEntry entry, Exception cause) {
        if (!entry.evict) {
            entry.evict = true;
            LOG.warn("{} - connection {} marked broken: {}", poolName, entry, cause.toString());
        }
    }

    // ---------------------------------------------------------------- making and closing connections

    /** Makes sure the connector is running if the pool is below its target. */
    void requestConnections() {
        if (!closed && needsConnection() && filling.compareAndSet(false, true)) {
            try {
                connector.execute(this::fill);
            } catch (RuntimeException rejected) {
                filling.set(false); // shutting down
            }
        }
    }

    private boolean needsConnection() {
        return openConnections.get() < maximumPoolSize
                && (bag.waiting() > 0 || bag.count(PoolEntry.IDLE) < minimumIdle);
    }

    /** Runs on the connector thread: one connection at a time, until the pool is at its target. */
    private void fill() {
        long backoff = BACKOFF_MIN_NANOS;
        do {
            while (!closed && needsConnection()) {
                openConnections.incrementAndGet();
                PoolEntry entry;
                try {
                    entry = createEntry();
                } catch (SQLException | RuntimeException e) {
                    openConnections.decrementAndGet();
                    lastConnectFailure = e instanceof SQLException ? (SQLException) e
                            : new SQLException(e.toString(), "08001", e);
                    LOG.debug("{} - could not open a connection (retrying in {}ms): {}", poolName,
                            TimeUnit.NANOSECONDS.toMillis(backoff), e.toString());
                    LockSupport.parkNanos(this, backoff);
                    backoff = Math.min(backoff * 2, BACKOFF_MAX_NANOS);
                    continue;
                }
                backoff = BACKOFF_MIN_NANOS;
                lastConnectFailure = null;
                if (closed) {
                    closeQuietly(entry.connection);
                    openConnections.decrementAndGet();
                    return;
                }
                bag.add(entry);
                bag.requite(entry);
            }
            filling.set(false);
            // A waiter may have arrived after our last check but before the flag cleared.
        } while (!closed && needsConnection() && filling.compareAndSet(false, true));
    }

    /** Opens and prepares one physical connection; counted in openConnections by the caller. */
    private PoolEntry createEntry() throws SQLException {
        Connection c = config.driver().connect(config.jdbcUrl(), driverProperties);
        if (c == null) {
            throw new SQLException(poolName + " - driver " + config.driver().getClass().getName()
                    + " returned no connection for " + config.maskedJdbcUrl(), "08001");
        }
        try {
            if (c.getAutoCommit() != defaultAutoCommit) {
                c.setAutoCommit(defaultAutoCommit);
            }
            if (defaultReadOnly) {
                c.setReadOnly(true);
            }
            if (config.transactionIsolation() != null) {
                c.setTransactionIsolation(config.transactionIsolation());
            }
            if (config.catalog() != null) {
                c.setCatalog(config.catalog());
            }
            if (config.schema() != null) {
                c.setSchema(config.schema());
            }
            if (config.connectionInitSql() != null) {
                try (Statement s = c.createStatement()) {
                    s.execute(config.connectionInitSql());
                }
                if (!defaultAutoCommit) {
                    c.commit();
                }
            }
            long now = ticker.read();
            long jitter = maxLifetimeNanos > 0 ? ThreadLocalRandom.current().nextLong(maxLifetimeNanos / 40 + 1) : 0;
            PoolEntry entry = new PoolEntry(c, now, now + maxLifetimeNanos - jitter);
            entry.autoCommit = defaultAutoCommit;
            entry.readOnly = defaultReadOnly;
            entry.isolation = entry.initialIsolation = c.getTransactionIsolation();
            entry.catalog = entry.initialCatalog = c.getCatalog();
            entry.schema = entry.initialSchema = c.getSchema();
            entry.networkTimeout = entry.initialNetworkTimeout = c.getNetworkTimeout();
            connectionsCreated.incrementAndGet();
            return entry;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    /** Takes an owned entry out of the pool and closes it in the background; makes a replacement if needed. */
    private void retire(PoolEntry entry, String reason) {
        if (!bag.remove(entry)) {
            return; // already retired (for instance by close())
        }
        LOG.debug("{} - retiring {}: {}", poolName, entry, reason);
        Runnable close = () -> {
            try {
                closeQuietly(entry.connection);
            } finally {
                openConnections.decrementAndGet();
                requestConnections();
            }
        };
        try {
            closer.execute(close);
        } catch (RuntimeException rejected) {
            close.run(); // closer already shut down: close on this thread
        }
    }

    private boolean isAlive(PoolEntry entry) {
        Connection c = entry.connection;
        try {
            if (config.connectionTestQuery() == null) {
                return c.isValid(validationSeconds);
            }
            try (Statement s = c.createStatement()) {
                s.setQueryTimeout(validationSeconds);
                s.execute(config.connectionTestQuery());
            }
            if (!entry.autoCommit) {
                c.rollback();
            }
            return true;
        } catch (SQLException | RuntimeException e) {
            LOG.debug("{} - validation of {} failed: {}", poolName, entry, e.toString());
            return false;
        }
    }

    private void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException | RuntimeException e) {
            LOG.debug("{} - error closing a connection: {}", poolName, e.toString());
        }
    }

    Executor networkTimeoutExecutor() {
        return closer;
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
            for (PoolEntry entry : bag.snapshot()) {
                boolean expired = maxLifetimeNanos > 0 && now - entry.retireAt >= 0;
                if (entry.state() == PoolEntry.IN_USE) {
                    if (expired) {
                        entry.evict = true;
                    }
                    continue;
                }
                boolean idleTooLong = idleTimeoutNanos > 0 && idle > minimumIdle
                        && now - entry.lastAccessed >= idleTimeoutNanos;
                boolean shrink = bag.size() > maximumPoolSize;
                boolean keepalive = keepaliveNanos > 0 && now - entry.lastAlive >= keepaliveNanos;
                if (!(expired || idleTooLong || shrink || entry.evict || keepalive) || !bag.reserve(entry)) {
                    continue;
                }
                if (expired || idleTooLong || shrink || entry.evict) {
                    idle--;
                    retire(entry, expired ? "lifetime reached" : idleTooLong ? "idle timeout" : "evicted");
                } else if (isAlive(entry)) {
                    entry.lastAlive = ticker.read();
                    bag.unreserve(entry);
                } else {
                    idle--;
                    retire(entry, "failed keepalive");
                }
            }
            requestConnections();
        } catch (RuntimeException e) {
            LOG.warn("{} - housekeeping failed", poolName, e);
        } finally {
            scheduleHousekeeping();
        }
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

    private String state() {
        return "(total=" + totalConnections() + ", active=" + activeConnections() + ", idle=" + idleConnections()
                + ", waiting=" + waitingThreads() + ")";
    }

    // ---------------------------------------------------------------- FerryPool

    /** The configuration this pool started with. */
    public FerryConfig config() {
        return config;
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

    /** Physical connections open or being opened or closed: what the database sees. */
    public int openConnections() {
        return openConnections.get();
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
        if (size < 1 || size < minimumIdle) {
            throw new IllegalArgumentException("maximumPoolSize: got " + size + "; allowed: at least 1 and at least "
                    + "minimumIdle (" + minimumIdle + ")");
        }
        maximumPoolSize = size;
        for (PoolEntry entry : bag.snapshot()) {
            if (bag.size() <= size) {
                break;
            }
            if (bag.reserve(entry)) {
                retire(entry, "pool shrunk");
            }
        }
        requestConnections();
    }

    @Override
    public void setMinimumIdle(int minimumIdle) {
        if (minimumIdle < 0 || minimumIdle > maximumPoolSize) {
            throw new IllegalArgumentException("minimumIdle: got " + minimumIdle + "; allowed: 0 to maximumPoolSize ("
                    + maximumPoolSize + ")");
        }
        this.minimumIdle = minimumIdle;
        requestConnections();
    }

    /** Changes how long borrowers wait; effective for the next borrow. */
    public void setConnectionTimeout(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("connectionTimeout: got " + timeout + "; allowed: a positive duration");
        }
        connectionTimeoutNanos = timeout.toNanos();
    }

    /** Changes the leak threshold; effective for the next borrow. Zero turns detection off. */
    public void setLeakDetectionThreshold(Duration threshold) {
        if (threshold == null || threshold.isNegative()) {
            throw new IllegalArgumentException("leakDetectionThreshold: got " + threshold
                    + "; allowed: 0 (off) or a positive duration");
        }
        leakThresholdNanos = threshold.toNanos();
    }

    @Override
    public void softEvictConnections() {
        for (PoolEntry entry : bag.snapshot()) {
            entry.evict = true;
            if (bag.reserve(entry)) {
                retire(entry, "soft eviction");
            }
        }
        requestConnections();
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Drains and closes: stops lending (waiters fail at once), closes idle connections, waits up to
     * shutdownTimeout for lent ones to come back, then closes those too.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Future<?> hk = housekeeping;
        if (hk != null) {
            hk.cancel(false);
        }
        bag.close();
        long deadline = System.nanoTime() + config.shutdownTimeout().toNanos();
        do {
            for (PoolEntry entry : bag.snapshot()) {
                if (bag.reserve(entry)) {
                    retire(entry, "pool closed");
                }
            }
            if (bag.size() == 0) {
                break;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        } while (System.nanoTime() - deadline < 0);
        for (PoolEntry entry : bag.snapshot()) {
            LOG.warn("{} - closing {} still lent after shutdownTimeout ({}ms)", poolName, entry,
                    config.shutdownTimeout().toMillis());
            entry.evict = true;
            try {
                entry.connection.abort(closer);
            } catch (SQLException | RuntimeException e) {
                LOG.debug("{} - abort failed: {}", poolName, e.toString());
            }
            retire(entry, "pool closed");
        }
        shutdownExecutors();
        LOG.info("{} - closed", poolName);
    }

    private void shutdownExecutors() {
        connector.shutdownNow();
        closer.shutdown();
        try {
            if (!closer.awaitTermination(5, TimeUnit.SECONDS)) {
                closer.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ownScheduler != null) {
            ownScheduler.shutdownNow();
        }
    }

    @Override
    public String toString() {
        return "ConnectionPool{" + poolName + " " + state() + "}";
    }
}
