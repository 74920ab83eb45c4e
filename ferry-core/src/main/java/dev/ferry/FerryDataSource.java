package dev.ferry;

import dev.ferry.batch.BatchedLookup;
import dev.ferry.batch.BatchedWriter;
import dev.ferry.pool.ConnectionPool;
import java.io.Closeable;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A pooling {@link DataSource}. Two ways to configure it:
 *
 * <ul>
 *   <li>as a JavaBean, with HikariCP's property names, so switching from {@code HikariDataSource} is a change of
 *       class name (and Spring's {@code DataSourceBuilder} binds it). The pool starts on the first
 *       {@link #getConnection()} or {@link #start()}; after that only the settings HikariCP also changes at run
 *       time ({@code maximumPoolSize}, {@code minimumIdle}, {@code connectionTimeout},
 *       {@code leakDetectionThreshold}, {@code username} and {@code password}) may change, and any other setter
 *       throws {@link IllegalStateException}.
 *   <li>with an immutable {@link FerryConfig}: {@code new FerryDataSource(FerryConfig.builder()...build())}
 *       starts the pool at once and fails fast, as {@code new HikariDataSource(config)} does.
 * </ul>
 *
 * <p>{@code unwrap(FerryPool.class)} gives the pool's state and resizing; {@code unwrap(Driver.class)} the
 * JDBC driver in use.
 *
 * <p>A start runs on the thread of the caller that triggers it ({@code new FerryDataSource(config)}'s, or the
 * first {@code getConnection}'s), holding no lock of the data source's: its first connection runs the user's
 * credentials provider, interceptors and listeners. Callers that arrive meanwhile wait for its outcome (and if it
 * fails, try themselves); a run-time setter waits for it, then applies to the pool it started (if it failed, the
 * setter acts as if no start had run); other setters fail, as once started. {@link #close()} waits for a start
 * under way, up to shutdownTimeout (a connect that hangs does not hang it; callers still waiting for that start
 * are then told it closed), and the start closes what it built; a second close waits for the first. User code
 * that the start runs, on the starting thread itself, and that calls back in, fails ({@code getConnection}:
 * SQLState 55000; a setter: {@link IllegalStateException}), or, for {@code close()}, marks the data source closed
 * and returns, rather than wait for itself; likewise a {@code close()} from user code a close runs. On another
 * thread the start waits for, such a call waits, as it would for a lock.
 */
public class FerryDataSource implements DataSource, Closeable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FerryDataSource.class);

    private final ReentrantLock lock = new ReentrantLock();
    private final FerryConfig.Builder settings;
    private FerryConfig config;
    private volatile ConnectionPool pool;
    /** Routes {@link #reads()} to the replicas; null without replicas. Set with the pool, under the lock. */
    private volatile dev.ferry.ha.ReadRouter router;
    /** getConnection(username, password)'s pools, when perUserPoolSize is above 0; set before {@link #pool}. */
    private volatile dev.ferry.pool.UserPools userPools;
    private volatile boolean closed;
    /** A start under way (see {@link #start0}), guarded by {@link #lock}; null before and after. */
    private java.util.concurrent.CompletableFuture<ConnectionPool> starting;
    /** The thread running that start: user code it runs that calls back in must fail, not wait for itself. */
    private Thread startingThread;
    /** The first {@link #close()}: later ones wait for it (guarded by {@link #lock}); null until closed. */
    private java.util.concurrent.CompletableFuture<Void> closing;
    /** The thread running it: user code it runs (listeners) that closes again must not wait for itself. */
    private Thread closingThread;
    private PrintWriter logWriter;
    /** The one {@link #reads()} view: batchers on it share one in-flight budget, keyed by it. */
    private final DataSourceView readsView = DataSourceView.reads(this);

    /** A data source to configure with setters; it starts on first use. */
    public FerryDataSource() {
        this.settings = FerryConfig.builder();
    }

    /**
     * A data source with a validated configuration, started at once, as {@code new HikariDataSource(config)} is:
     * with the default initializationFailTimeout it fails here if the database cannot be reached.
     *
     * @throws PoolInitializationException if the pool cannot start; its cause is the SQLException
     */
    public FerryDataSource(FerryConfig config) {
        this(config, true);
    }

    private FerryDataSource(FerryConfig config, boolean startNow) {
        this.config = config;
        this.settings = config.toBuilder();
        if (startNow) {
            try {
                start0();
            } catch (SQLException e) {
                throw new PoolInitializationException(e);
            }
        }
    }

    /**
     * A data source with a validated configuration that starts its pool at the first {@code getConnection} (or
     * {@link #start()}), as a HikariDataSource configured by setters does: what Spring Boot's starter builds, so an
     * application context starts even while the database is down, as it does with HikariCP.
     */
    public static FerryDataSource startingOnFirstUse(FerryConfig config) {
        return new FerryDataSource(java.util.Objects.requireNonNull(config, "config"), false);
    }

    @Override
    public Connection getConnection() throws SQLException {
        ConnectionPool p = pool;
        if (p == null) {
            p = start0();
        }
        return p.getConnection();
    }

    /**
     * Borrows a connection at this priority (see {@link FerryPool#getConnection(Priority)}): CRITICAL callers are
     * served first and may use the emergency reserve; BULK callers after NORMAL ones.
     */
    public Connection getConnection(Priority priority) throws SQLException {
        ConnectionPool p = pool;
        if (p == null) {
            p = start0();
        }
        return p.getConnection(priority);
    }

    /**
     * This pool as a {@link DataSource} whose {@code getConnection()} borrows at {@code priority}: for frameworks
     * that only call {@code getConnection()} (give the critical path's transaction manager the CRITICAL view).
     */
    public DataSourceView forPriority(Priority priority) {
        java.util.Objects.requireNonNull(priority, "priority");
        return new DataSourceView(this, priority, null);
    }

    /**
     * This pool as a {@link DataSource} whose {@code getConnection()} borrows in the named lane (see
     * {@code FerryConfig.Builder.lane}): give the reporting job's framework {@code lane("analytics")}.
     *
     * @throws IllegalArgumentException if the pool is built and has no such lane
     */
    public DataSourceView lane(String name) {
        java.util.Objects.requireNonNull(name, "name");
        ConnectionPool p = pool;
        FerryConfig c = p == null ? null : p.config();
        if (c != null && !name.equals(dev.ferry.capacity.Lane.MAIN)
                && c.lanes().stream().noneMatch(l -> l.name().equals(name))) {
            throw new IllegalArgumentException("lane: got '" + name + "'; allowed: " + dev.ferry.capacity.Lane.MAIN
                    + c.lanes().stream().map(l -> ", " + l.name()).collect(java.util.stream.Collectors.joining()));
        }
        return new DataSourceView(this, Priority.NORMAL, name);
    }

    /**
     * A DataSource for reads: read-only connections from a healthy replica (the least busy; see
     * {@link FerryConfig.Builder#replica}), or from the primary when none is usable or none is configured.
     * Starts the pool if it has not started.
     */
    public DataSourceView reads() {
        return readsView;
    }

    /** A read-only connection for {@link #reads()}, at this priority, within maxWait (null: connectionTimeout). */
    Connection readConnection(Priority priority, Duration maxWait) throws SQLException {
        ConnectionPool p = started();
        dev.ferry.ha.ReadRouter r = router;
        if (r != null) {
            return r.getConnection(priority, maxWait);
        }
        Connection c = maxWait == null ? p.getConnection(priority) : p.getConnection(priority, maxWait);
        try {
            c.setReadOnly(true);
            return c;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The read router, when replicas are configured and the pool has started (for tests and operators). */
    public java.util.Optional<dev.ferry.ha.ReadRouter> readRouter() {
        return java.util.Optional.ofNullable(router);
    }

    /** The pool, started now if it has not been (for this pool's DataSource views). */
    ConnectionPool started() throws SQLException {
        ConnectionPool p = pool;
        return p != null ? p : start0();
    }

    /**
     * A connection logged in as {@code username} with {@code password}, from that user's pool, when
     * {@link FerryConfig.Builder#perUserPoolSize perUserPoolSize} is above 0: up to that many connections per user,
     * all within maximumPoolSize together with this data source's own. The configured user and password are served
     * by the main pool. Lanes, priorities, the reserve and read routing apply to the main pool only.
     *
     * @throws SQLFeatureNotSupportedException with perUserPoolSize 0 (the default), as in HikariCP
     * @throws SQLException                    28xxx (or 08004 on PostgreSQL) if the server refuses a new user pool's
     *                                         first login, or the connection is logged in as another user; 53300 if
     *                                         maxUserPools users have pools and each is in use; as
     *                                         {@link #getConnection()} otherwise (a pool whose logins start failing
     *                                         later, a password changed on the server, times out with the error)
     */
    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        ConnectionPool p = pool;
        if (p == null) {
            FerryConfig c = config;
            if ((c != null ? c.perUserPoolSize() : settings.perUserPoolSize) == 0) {
                throw perUserRefused();
            }
            p = start0();
        }
        dev.ferry.pool.UserPools users = userPools;
        if (users == null) {
            throw perUserRefused();
        }
        return users.getConnection(username, password);
    }

    private static SQLFeatureNotSupportedException perUserRefused() {
        return new SQLFeatureNotSupportedException("FerryDataSource - getConnection(username, password): "
                + "perUserPoolSize is 0, so connections of other users are not pooled; allowed: set perUserPoolSize "
                + "(connections per user, within maximumPoolSize) to serve them, or configure a data source per user");
    }

    /** The per-user pools' engine, or null (for tests). */
    dev.ferry.pool.UserPools userPoolsEngine() {
        return userPools;
    }

    /**
     * What the pools of {@link #getConnection(String, String)}'s users hold now (empty without perUserPoolSize):
     * counts, not the pools, so the data source gives no way to borrow a user's connection without the password.
     */
    public java.util.List<UserPool> userPools() {
        dev.ferry.pool.UserPools users = userPools;
        return users == null ? java.util.List.of() : users.pools();
    }

    /**
     * Starts the pool now rather than on first use, so configuration and database errors show at start-up.
     *
     * @throws IllegalArgumentException if a setting is invalid (the message names it)
     * @throws SQLException             if the database cannot be reached within initializationFailTimeout
     */
    public void start() throws SQLException {
        start0();
    }

    /**
     * Starts the pool once, outside {@link #lock}: the first connection runs user code (a credentials provider,
     * interceptors' onCreate, listeners, a metrics factory), which must not run under a lock of ours. Callers that
     * come while a start is under way wait for its outcome; {@link #close()} during a start closes what it built.
     */
    private ConnectionPool start0() throws SQLException {
        for (;;) {
            java.util.concurrent.CompletableFuture<ConnectionPool> mine;
            java.util.concurrent.CompletableFuture<ConnectionPool> theirs;
            FerryConfig given = null;
            FerryConfig.Builder toBuild = null;
            lock.lock();
            try {
                if (closed) {
                    throw new SQLException("FerryDataSource " + name() + " is closed", "08003");
                }
                if (pool != null) {
                    return pool;
                }
                theirs = starting;
                mine = null;
                if (theirs != null && startingThread == Thread.currentThread()) {
                    throw calledFromStart();
                }
                if (theirs == null) {
                    mine = new java.util.concurrent.CompletableFuture<>();
                    starting = mine; // the settings are frozen from here (beforeChange)
                    startingThread = Thread.currentThread();
                    given = config;
                    if (given == null) {
                        toBuild = settings.copy();
                    }
                }
            } finally {
                lock.unlock();
            }
            if (mine == null) {
                // Another caller's start: its pool; if it failed, look again and try ourselves, as each caller
                // did when it got the lock in turn.
                try {
                    ConnectionPool started = theirs.get();
                    if (started != null) {
                        return started;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("FerryDataSource " + name() + " - interrupted while the pool started",
                            "HY008", e);
                } catch (java.util.concurrent.ExecutionException failed) {
                    // (that caller was told why)
                }
                continue;
            }
            return startHere(mine, given, toBuild);
        }
    }

    /** The start itself, on the caller's thread and outside the lock (see {@link #start0}). */
    private ConnectionPool startHere(java.util.concurrent.CompletableFuture<ConnectionPool> mine, FerryConfig given,
                                     FerryConfig.Builder toBuild) throws SQLException {
        ConnectionPool started = null;
        dev.ferry.ha.ReadRouter startedRouter = null;
        boolean published = false;
        try {
            FerryConfig c = given != null ? given : toBuild.build(); // not started on failure: settings stay editable
            ConnectionPool built = new ConnectionPool(c);
            started = built;
            if (!c.replicas().isEmpty()) {
                startedRouter = new dev.ferry.ha.ReadRouter(c, () -> built);
            }
            dev.ferry.pool.UserPools users = c.perUserPoolSize() > 0 ? new dev.ferry.pool.UserPools(built) : null;
            lock.lock();
            try {
                starting = null;
                startingThread = null;
                if (!closed) {
                    config = c;
                    router = startedRouter;
                    userPools = users;
                    pool = built; // published last: whoever sees the pool sees its router and user pools
                    published = true;
                }
            } finally {
                lock.unlock();
            }
            if (!published) {
                throw new SQLException("FerryDataSource " + c.poolName() + " was closed while it started", "08003");
            }
            mine.complete(built);
            return built;
        } catch (Throwable e) { // (an Error, or a checked exception user code sneaked through, too)
            try {
                if (!published) {
                    try {
                        if (startedRouter != null) {
                            startedRouter.close();
                        }
                    } finally {
                        if (started != null) {
                            started.close(); // (user pools have none of their own yet)
                        }
                    }
                }
            } finally {
                lock.lock();
                try {
                    if (starting == mine) {
                        starting = null;
                        startingThread = null;
                    }
                } finally {
                    lock.unlock();
                }
                mine.completeExceptionally(e);
            }
            throw e;
        }
    }

    /** For a call back into this data source from user code its own start runs (which would wait for itself). */
    private SQLException calledFromStart() {
        return new SQLException("FerryDataSource " + name() + " - called while it starts, from the start itself (a "
                + "credentials provider, interceptor, listener or metrics factory it runs): it has no pool to serve "
                + "this yet", "55000");
    }

    private String name() {
        return config != null ? config.poolName() : settings.poolName != null ? settings.poolName : "(unstarted)";
    }

    /**
     * Starts the pool if it has not started, and opens minimumIdle connections (at least one, so the database is
     * reached) on the calling thread within {@code timeout}, before the application takes traffic. See
     * {@link #warmUp(int, Duration)}.
     */
    public WarmUp warmUp(Duration timeout) throws SQLException {
        ConnectionPool p = start0();
        return p.warmUp(Math.max(1, p.minimumIdle()), timeout);
    }

    /**
     * Starts the pool if it has not started, and opens connections until {@code connections} are open (idle or
     * lent) or {@code timeout} has passed; the result says how many and how long. From the first warm-up on,
     * {@link #isReady()} waits for one to reach its target. Connections above minimumIdle stay as idle
     * connections do, until idleTimeout.
     *
     * @throws IllegalArgumentException if {@code connections} is not between 1 and maximumPoolSize
     * @throws SQLException             if the pool cannot start (see {@link #start()})
     */
    public WarmUp warmUp(int connections, Duration timeout) throws SQLException {
        return start0().warmUp(connections, timeout);
    }

    /**
     * Ready for traffic (a readiness probe's answer): started, not closed or suspended, and, once
     * {@link #warmUp} has been called, the last warm-up's target reached (see {@link FerryPool#isReady()}). Not
     * started yet: false.
     */
    public boolean isReady() {
        ConnectionPool p = pool;
        return p != null && !closed && p.isReady();
    }

    /** Whether the pool has started and not been closed. */
    public boolean isRunning() {
        return pool != null && !closed;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Drains and closes the pool; see {@link FerryConfig#shutdownTimeout()}. Later borrows fail. */
    @Override
    public void close() {
        java.util.concurrent.CompletableFuture<ConnectionPool> inProgress;
        java.util.concurrent.CompletableFuture<Void> closedBefore;
        java.util.concurrent.CompletableFuture<Void> mine = new java.util.concurrent.CompletableFuture<>();
        dev.ferry.ha.ReadRouter r;
        dev.ferry.pool.UserPools users;
        ConnectionPool p;
        Duration waitForStart;
        lock.lock();
        try {
            closed = true;
            waitForStart = config != null ? config.shutdownTimeout()
                    : settings.shutdownTimeout != null ? settings.shutdownTimeout : Duration.ofSeconds(10);
            if (startingThread == Thread.currentThread() || closingThread == Thread.currentThread()) {
                // From user code the start or a close runs: the start sees closed and closes what it built; the
                // close goes on. Waiting here would wait for ourselves.
                return;
            }
            inProgress = starting;
            closedBefore = closing;
            if (closedBefore == null) {
                closing = mine;
                closingThread = Thread.currentThread();
            }
            r = router;
            users = userPools;
            p = pool;
        } finally {
            lock.unlock();
        }
        if (closedBefore != null) { // another close runs, or ran: its end is this one's
            closedBefore.join();
            return;
        }
        try {
            closeAll(r, users, p, inProgress, waitForStart);
        } finally {
            mine.complete(null);
        }
    }

    private static void closeAll(dev.ferry.ha.ReadRouter r, dev.ferry.pool.UserPools users, ConnectionPool p,
                                 java.util.concurrent.CompletableFuture<ConnectionPool> inProgress,
                                 Duration waitForStart) {
        // Closed outside the lock: closing waits for lent connections and tells the user's listeners.
        try {
            if (r != null) {
                r.close();
            }
            if (users != null) {
                users.close(); // before the main pool: they count in its budget
            }
        } finally {
            if (p != null) {
                p.close();
            }
        }
        if (inProgress != null) {
            // A start under way sees closed and closes what it built before it ends. Waited for up to
            // shutdownTimeout: a connect that hangs must not hang close() (the start still closes what it built
            // when the connect returns).
            try {
                inProgress.get(Math.max(0, waitForStart.toNanos()), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException ended) {
                // the start failed or was closed: nothing was left open
            } catch (java.util.concurrent.TimeoutException stillStarting) {
                LOG.warn("FerryDataSource - closed while a start is still connecting after shutdownTimeout ({}ms); "
                        + "that start closes what it built when the connect returns", waitForStart.toMillis());
                // Callers waiting for that start are told now (its own caller, when it returns).
                inProgress.completeExceptionally(new SQLException("FerryDataSource closed while it started",
                        "08003"));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // as the pool's close: stop waiting, keep the interrupt
            }
        }
    }

    /**
     * Starts a batched lookup on this pool: many callers' single-key reads become few {@code = ANY(?)} queries.
     * Batches in flight default to this pool's maximumPoolSize.
     */
    public <K, V> BatchedLookup.Builder<K, V> batchedLookup(Class<K> keyType) {
        return BatchedLookup.builder(this, keyType);
    }

    /** Starts a batched writer on this pool: many callers' single-row writes become few transactions. */
    public <R> BatchedWriter.Builder<R> batchedWriter() {
        return BatchedWriter.builder(this);
    }

    /** Starts a group commit on this pool: many callers' short transactions share one COMMIT, each in a savepoint. */
    public dev.ferry.batch.GroupCommit.Builder groupCommit() {
        return dev.ferry.batch.GroupCommit.builder(this);
    }

    /** The configuration in force, once started; before that, null. */
    public FerryConfig getConfig() {
        return pool == null ? null : config;
    }

    // ---------------------------------------------------------------- bean setters (sealed once started)

    private void beforeChange(String setting) {
        if (pool != null || config != null || starting != null) {
            throw new IllegalStateException(setting + " cannot change once the pool is configured or started; "
                    + "only maximumPoolSize, minimumIdle, connectionTimeout, leakDetectionThreshold, username and "
                    + "password can change at run time");
        }
    }

    private void set(String setting, Runnable change) {
        lock.lock();
        try {
            beforeChange(setting);
            change.run();
        } finally {
            lock.unlock();
        }
    }

    public void setJdbcUrl(String jdbcUrl) {
        set("jdbcUrl", () -> settings.jdbcUrl(jdbcUrl));
    }

    public String getJdbcUrl() {
        return settings.jdbcUrl;
    }

    /** Alias of {@link #setJdbcUrl}, for frameworks that bind {@code url}. */
    public void setUrl(String url) {
        setJdbcUrl(url);
    }

    public String getUrl() {
        return getJdbcUrl();
    }

    /** Changeable at run time: connections opened after the change use the new username. */
    public void setUsername(String username) {
        changeCredentials(() -> settings.username(username));
    }

    private void changeCredentials(Runnable change) {
        // Applied to the pools under the lock too (two field writes each, no user code), so that concurrent
        // changes reach them in the order they reached the settings.
        change("username and password", () -> {
            ConnectionPool running = pool;
            if (running != null && running.config().credentialsProvider() != null) {
                throw new IllegalStateException("username and password cannot change: credentials come from the "
                        + "credentialsProvider");
            }
            change.run();
            if (running != null) {
                running.setCredentials(settings.username, settings.password);
                dev.ferry.ha.ReadRouter r = router;
                if (r != null) {
                    r.pools().forEach(replica -> replica.setCredentials(settings.username, settings.password));
                }
            }
        }, p -> { });
    }

    /**
     * A change HikariCP also allows at run time: {@code onSettings} under {@link #lock} (which may also apply it to
     * the running pools, where that runs no user code), then, once started, {@code onPool} outside the lock (a
     * resize raises events to the user's listeners). A start under way is waited for first, so the change lands on
     * the pool it starts.
     *
     * @param onSettings applied under the lock, started or not (an unstarted pool's only copy of the settings)
     * @param onPool     applied to the running pool after that, outside the lock, if there is one
     */
    private void change(String setting, Runnable onSettings,
                        java.util.function.Consumer<ConnectionPool> onPool) {
        for (;;) {
            java.util.concurrent.CompletableFuture<ConnectionPool> inProgress;
            ConnectionPool running;
            lock.lock();
            try {
                inProgress = starting;
                running = pool;
                if (inProgress != null && startingThread == Thread.currentThread()) {
                    throw new IllegalStateException(setting + " cannot change from user code the pool's own start "
                            + "runs (a credentials provider, interceptor, listener or metrics factory)");
                }
                if (inProgress == null) {
                    if (running == null) {
                        beforeChange(setting);
                    }
                    onSettings.run();
                }
            } finally {
                lock.unlock();
            }
            if (inProgress == null) {
                if (running != null) {
                    onPool.accept(running);
                }
                return;
            }
            try {
                inProgress.join();
            } catch (RuntimeException failed) {
                // the start failed (the caller that started it was told): look again
            }
        }
    }

    public String getUsername() {
        return settings.username;
    }

    /** Alias of {@link #setUsername}, for frameworks that bind {@code user}. */
    public void setUser(String user) {
        setUsername(user);
    }

    public String getUser() {
        return getUsername();
    }

    /** Changeable at run time (a rotated password): connections opened after the change use it. */
    public void setPassword(String password) {
        changeCredentials(() -> settings.password(password));
    }

    public void setDriverClassName(String driverClassName) {
        set("driverClassName", () -> settings.driverClassName(driverClassName));
    }

    public String getDriverClassName() {
        return settings.driverClassName;
    }

    /** A {@link DataSource} class to configure from dataSourceProperties, instead of jdbcUrl. */
    public void setDataSourceClassName(String className) {
        set("dataSourceClassName", () -> settings.dataSourceClassName(className));
    }

    public String getDataSourceClassName() {
        return settings.dataSourceClassName;
    }

    /** A ready {@link DataSource} to take connections from, instead of jdbcUrl (e.g. a PGSimpleDataSource). */
    public void setDataSource(DataSource dataSource) {
        set("dataSource", () -> settings.dataSource(dataSource));
    }

    public DataSource getDataSource() {
        return settings.dataSource;
    }

    /** Adds these to the data source properties set so far (HikariCP merges too). */
    public void setDataSourceProperties(Properties properties) {
        set("dataSourceProperties", () -> {
            for (java.util.Map.Entry<Object, Object> e : FerryConfig.copy(properties).entrySet()) {
                settings.dataSourceProperty(String.valueOf(e.getKey()), e.getValue());
            }
        });
    }

    public Properties getDataSourceProperties() {
        Properties copy = new Properties();
        copy.putAll(settings.dataSourceProperties);
        return copy;
    }

    /** Values need not be strings: a DataSource gets them as they are; a Driver gets their string form. */
    public void addDataSourceProperty(String key, Object value) {
        set("dataSourceProperties", () -> settings.dataSourceProperty(key, value));
    }

    /** An {@link ExceptionOverride} or HikariCP {@code SQLExceptionOverride} class deciding evictions. */
    public void setExceptionOverrideClassName(String className) {
        set("exceptionOverrideClassName", () -> settings.exceptionOverrideClassName(className));
    }

    public String getExceptionOverrideClassName() {
        return settings.exceptionOverrideClassName;
    }

    public void setAllowPoolSuspension(boolean allow) {
        set("allowPoolSuspension", () -> settings.allowPoolSuspension(allow));
    }

    public boolean isAllowPoolSuspension() {
        return settings.allowPoolSuspension;
    }

    public void setThreadFactory(ThreadFactory threadFactory) {
        set("threadFactory", () -> settings.threadFactory(threadFactory));
    }

    public ThreadFactory getThreadFactory() {
        return settings.threadFactory;
    }

    /** Runs housekeeping; the pool never shuts it down. */
    public void setScheduledExecutor(ScheduledExecutorService executor) {
        set("scheduledExecutor", () -> settings.scheduledExecutor(executor));
    }

    public ScheduledExecutorService getScheduledExecutor() {
        return settings.scheduledExecutor;
    }

    /**
     * Evicts the connection behind {@code connection}, a connection borrowed from this data source: it is never
     * lent again, and is closed when the borrower closes it. Does nothing for other connections.
     */
    public void evictConnection(Connection connection) {
        ConnectionPool p = pool;
        if (p != null && !closed) {
            p.evictConnection(connection);
        }
    }

    public void setPoolName(String poolName) {
        set("poolName", () -> settings.poolName(poolName));
    }

    public String getPoolName() {
        return config != null ? config.poolName() : settings.poolName;
    }

    /** Resizable at run time. */
    public void setMaximumPoolSize(int maximumPoolSize) {
        change("maximumPoolSize", () -> {
            if (pool == null) {
                settings.maximumPoolSize(maximumPoolSize);
            }
        }, p -> p.setMaximumPoolSize(maximumPoolSize));
    }

    public int getMaximumPoolSize() {
        return pool != null ? pool.maximumPoolSize() : settings.maximumPoolSize;
    }

    /** Resizable at run time. */
    public void setMinimumIdle(int minimumIdle) {
        change("minimumIdle", () -> {
            if (pool == null) {
                settings.minimumIdle(minimumIdle);
            }
        }, p -> p.setMinimumIdle(minimumIdle));
    }

    public int getMinimumIdle() {
        if (pool != null) {
            return pool.minimumIdle();
        }
        return settings.minimumIdle == -1 ? settings.maximumPoolSize : settings.minimumIdle;
    }

    /** In milliseconds; changeable at run time. */
    public void setConnectionTimeout(long millis) {
        // The settings too once started, so the getter reports the value in force; the pools under the lock as
        // well (field writes, no user code), so concurrent changes reach them in the order they reach the settings.
        change("connectionTimeout", () -> {
            settings.connectionTimeout(Duration.ofMillis(millis));
            ConnectionPool running = pool;
            if (running != null) {
                running.setConnectionTimeout(Duration.ofMillis(millis));
                dev.ferry.ha.ReadRouter r = router;
                if (r != null) { // the replicas' pools (reads follow the primary's timeout by themselves)
                    r.pools().forEach(replica -> replica.setConnectionTimeout(Duration.ofMillis(millis)));
                }
            }
        }, p -> { });
    }

    /** In force once started (0 became HikariCP's "no limit", Integer.MAX_VALUE); as set before that. */
    public long getConnectionTimeout() {
        ConnectionPool p = pool;
        return p != null ? p.connectionTimeoutMillis() : settings.connectionTimeout.toMillis();
    }

    public void setIdleTimeout(long millis) {
        set("idleTimeout", () -> settings.idleTimeout(Duration.ofMillis(millis)));
    }

    public long getIdleTimeout() {
        return pool != null ? config.idleTimeout().toMillis() : settings.idleTimeout.toMillis();
    }

    public void setMaxLifetime(long millis) {
        set("maxLifetime", () -> settings.maxLifetime(Duration.ofMillis(millis)));
    }

    public long getMaxLifetime() {
        return pool != null ? config.maxLifetime().toMillis() : settings.maxLifetime.toMillis();
    }

    public void setKeepaliveTime(long millis) {
        set("keepaliveTime", () -> settings.keepaliveTime(Duration.ofMillis(millis)));
    }

    public long getKeepaliveTime() {
        return pool != null ? config.keepaliveTime().toMillis() : settings.keepaliveTime.toMillis();
    }

    public void setValidationTimeout(long millis) {
        set("validationTimeout", () -> settings.validationTimeout(Duration.ofMillis(millis)));
    }

    public long getValidationTimeout() {
        return pool != null ? config.validationTimeout().toMillis() : settings.validationTimeout.toMillis();
    }

    /** In milliseconds, 0 to turn off; changeable at run time. */
    public void setLeakDetectionThreshold(long millis) {
        change("leakDetectionThreshold", () -> {
            settings.leakDetectionThreshold(Duration.ofMillis(millis));
            ConnectionPool running = pool;
            if (running != null) {
                running.setLeakDetectionThreshold(Duration.ofMillis(millis)); // (a field write, no user code)
            }
        }, p -> { });
    }

    public long getLeakDetectionThreshold() {
        return settings.leakDetectionThreshold.toMillis();
    }

    public void setInitializationFailTimeout(long millis) {
        set("initializationFailTimeout", () -> settings.initializationFailTimeout(Duration.ofMillis(millis)));
    }

    public long getInitializationFailTimeout() {
        return pool != null ? config.initializationFailTimeout().toMillis()
                : settings.initializationFailTimeout.toMillis();
    }

    /** Ferry's addition: default statement timeout in milliseconds (whole seconds), 0 for none. */
    public void setQueryTimeout(long millis) {
        set("queryTimeout", () -> settings.queryTimeout(Duration.ofMillis(millis)));
    }

    public long getQueryTimeout() {
        return settings.queryTimeout.toMillis();
    }

    /** Ferry's addition: how often housekeeping runs, in milliseconds (default 30000). */
    public void setHousekeepingPeriod(long millis) {
        set("housekeepingPeriod", () -> settings.housekeepingPeriod(Duration.ofMillis(millis)));
    }

    public long getHousekeepingPeriod() {
        return settings.housekeepingPeriod.toMillis();
    }

    /** Ferry's addition: how long close() waits for lent connections, in milliseconds (default 10000). */
    public void setShutdownTimeout(long millis) {
        set("shutdownTimeout", () -> settings.shutdownTimeout(Duration.ofMillis(millis)));
    }

    public long getShutdownTimeout() {
        return settings.shutdownTimeout.toMillis();
    }

    /** HikariCP's JMX switch: registers the pool's MBeans while it runs (see FerryConfig.Builder#registerMbeans). */
    public void setRegisterMbeans(boolean register) {
        set("registerMbeans", () -> settings.registerMbeans(register));
    }

    public boolean isRegisterMbeans() {
        return settings.registerMbeans;
    }

    /** HikariCP's metricRegistry: a Micrometer MeterRegistry (needs ferry-micrometer). See FerryConfig.Builder. */
    public void setMetricRegistry(Object registry) {
        set("metricRegistry", () -> settings.metricRegistry(registry));
    }

    public Object getMetricRegistry() {
        return settings.metricRegistry;
    }

    /** HikariCP's metricsTrackerFactory, with Ferry's interface. See FerryConfig.Builder#metricsTrackerFactory. */
    public void setMetricsTrackerFactory(dev.ferry.observe.MetricsTrackerFactory factory) {
        set("metricsTrackerFactory", () -> settings.metricsTrackerFactory(factory));
    }

    public dev.ferry.observe.MetricsTrackerFactory getMetricsTrackerFactory() {
        return settings.metricsTrackerFactory;
    }

    /**
     * The metrics factory this data source's pool reports to (set, or made from the metric registry set), or
     * null: batched lookups and writers built on it report there too. Does not start the pool.
     */
    public dev.ferry.observe.MetricsTrackerFactory metricsFactory() {
        ConnectionPool running = pool;
        if (running != null) {
            return running.config().metricsTrackerFactory();
        }
        lock.lock();
        try {
            return ConfigResolver.resolveMetrics(settings);
        } catch (IllegalArgumentException | IllegalStateException e) {
            return null; // not configured yet (or wrongly): the pool's start will say why
        } finally {
            lock.unlock();
        }
    }

    /** Ferry's addition: keep per-statement figures (see FerryConfig.Builder#sqlStatistics). */
    public void setSqlStatistics(boolean enabled) {
        set("sqlStatistics", () -> settings.sqlStatistics(enabled));
    }

    public boolean isSqlStatistics() {
        return settings.sqlStatistics;
    }

    /** Ferry's addition: statements slower than this many milliseconds raise an event (0: off). */
    public void setSlowStatementThreshold(long millis) {
        set("slowStatementThreshold", () -> settings.slowStatementThreshold(Duration.ofMillis(millis)));
    }

    public long getSlowStatementThreshold() {
        return settings.slowStatementThreshold.toMillis();
    }

    /** Adds a listener for pool events (before the pool starts, like every setting). */
    public void addListener(FerryListener listener) {
        set("listeners", () -> settings.listener(listener));
    }

    /**
     * HikariCP's isolateInternalQueries: accepted and ignored, because Ferry's own queries (validation, the test
     * query) never leave a transaction open (see README's migration table).
     */
    public void setIsolateInternalQueries(boolean isolate) {
        // nothing to do: see the comment above
    }

    /** HikariCP's credentialsProviderClassName; see {@link FerryConfig.Builder#credentialsProviderClassName}. */
    public void setCredentialsProviderClassName(String className) {
        set("credentialsProviderClassName", () -> settings.credentialsProviderClassName(className));
    }

    public String getCredentialsProviderClassName() {
        return settings.credentialsProviderClassName;
    }

    /** See {@link FerryConfig.Builder#perUserPoolSize}. */
    public void setPerUserPoolSize(int perUserPoolSize) {
        set("perUserPoolSize", () -> settings.perUserPoolSize(perUserPoolSize));
    }

    public int getPerUserPoolSize() {
        return settings.perUserPoolSize;
    }

    /** See {@link FerryConfig.Builder#maxUserPools}. */
    public void setMaxUserPools(int maxUserPools) {
        set("maxUserPools", () -> settings.maxUserPools(maxUserPools));
    }

    public int getMaxUserPools() {
        return settings.maxUserPools;
    }

    /** Ferry's addition: how many callers may wait at once before getConnection() fails fast. */
    public void setMaxWaiting(int maxWaiting) {
        set("maxWaiting", () -> settings.maxWaiting(maxWaiting));
    }

    public int getMaxWaiting() {
        return settings.maxWaiting;
    }

    /** See {@link FerryConfig.Builder#reserve}. */
    public void setReserve(int reserve) {
        set("reserve", () -> settings.reserve(reserve));
    }

    public int getReserve() {
        return settings.reserve;
    }

    /** Milliseconds; see {@link FerryConfig.Builder#reserveTimeout}. */
    public void setReserveTimeout(long millis) {
        set("reserveTimeout", () -> settings.reserveTimeout(Duration.ofMillis(millis)));
    }

    public long getReserveTimeout() {
        return settings.reserveTimeout.toMillis();
    }

    /** Milliseconds; see {@link FerryConfig.Builder#queueWaitTarget}. */
    public void setQueueWaitTarget(long millis) {
        set("queueWaitTarget", () -> settings.queueWaitTarget(Duration.ofMillis(millis)));
    }

    public long getQueueWaitTarget() {
        return settings.queueWaitTarget.toMillis();
    }

    /** Milliseconds; see {@link FerryConfig.Builder#overloadInterval}. */
    public void setOverloadInterval(long millis) {
        set("overloadInterval", () -> settings.overloadInterval(Duration.ofMillis(millis)));
    }

    public long getOverloadInterval() {
        return settings.overloadInterval.toMillis();
    }

    /** See {@link FerryConfig.Builder#shedOnOverload}. */
    public void setShedOnOverload(boolean shed) {
        set("shedOnOverload", () -> settings.shedOnOverload(shed));
    }

    public boolean isShedOnOverload() {
        return settings.shedOnOverload;
    }

    public void setAutoCommit(boolean autoCommit) {
        set("autoCommit", () -> settings.autoCommit(autoCommit));
    }

    public boolean isAutoCommit() {
        return settings.autoCommit;
    }

    public void setReadOnly(boolean readOnly) {
        set("readOnly", () -> settings.readOnly(readOnly));
    }

    public boolean isReadOnly() {
        return settings.readOnly;
    }

    public void setTransactionIsolation(String isolation) {
        set("transactionIsolation", () -> settings.transactionIsolation(isolation));
    }

    /** As set before start; once started, the level in force as its {@code TRANSACTION_*} number, or null. */
    public String getTransactionIsolation() {
        if (pool != null) {
            return config.transactionIsolation() == null ? null : config.transactionIsolation().toString();
        }
        return settings.transactionIsolation;
    }

    public void setCatalog(String catalog) {
        set("catalog", () -> settings.catalog(catalog));
    }

    public String getCatalog() {
        return pool != null ? config.catalog() : settings.catalog;
    }

    public void setSchema(String schema) {
        set("schema", () -> settings.schema(schema));
    }

    public String getSchema() {
        return settings.schema;
    }

    public void setConnectionInitSql(String sql) {
        set("connectionInitSql", () -> settings.connectionInitSql(sql));
    }

    public String getConnectionInitSql() {
        return pool != null ? config.connectionInitSql() : settings.connectionInitSql;
    }

    public void setConnectionTestQuery(String sql) {
        set("connectionTestQuery", () -> settings.connectionTestQuery(sql));
    }

    public String getConnectionTestQuery() {
        return pool != null ? config.connectionTestQuery() : settings.connectionTestQuery;
    }

    // ---------------------------------------------------------------- DataSource / Wrapper

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    /** Stored for the DataSource contract; Ferry logs through SLF4J. */
    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    /** Sets connectionTimeout, in seconds, as HikariCP does; 0 leaves it unchanged. */
    @Override
    public void setLoginTimeout(int seconds) {
        if (seconds > 0) {
            setConnectionTimeout(seconds * 1000L);
        }
    }

    @Override
    public int getLoginTimeout() {
        return (int) (getConnectionTimeout() / 1000);
    }

    @Override
    public Logger getParentLogger() {
        return Logger.getLogger("dev.ferry");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        if (iface == FerryPool.class || iface == ConnectionPool.class) {
            ConnectionPool p = pool != null ? pool : start0();
            return iface.cast(p);
        }
        if (iface == Driver.class) {
            FerryConfig c = config != null ? config : start0().config();
            return iface.cast(c.driver());
        }
        if (iface == FerryConfig.class) {
            FerryConfig c = config;
            return iface.cast(c != null ? c : start0().config());
        }
        throw new SQLException("FerryDataSource " + name() + " does not wrap " + iface.getName()
                + "; it unwraps to FerryPool, Driver and FerryConfig");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this) || iface == FerryPool.class || iface == ConnectionPool.class
                || iface == Driver.class || iface == FerryConfig.class;
    }

    @Override
    public String toString() {
        return "FerryDataSource (" + name() + ")";
    }
}
