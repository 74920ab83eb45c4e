package dev.ferry.pool;

import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * The connection a borrower holds: one per lend, so a stale reference can never reach a connection that has
 * since been lent to someone else. It records what the borrower changed (autocommit, isolation, read-only,
 * catalog, schema, network timeout) and whether a transaction may be open (with autocommit off: a statement ran,
 * a result set row changed, metadata was read, the schema was read or set, a savepoint was made, or the vendor
 * connection was unwrapped). On {@code close()} it closes the borrower's statements, rolls back uncommitted work,
 * whether or not the connection is about to be retired (a driver may commit on close), and resets what the
 * borrower changed, before giving the physical connection back. Any failure on the way retires the connection
 * instead of lending it again.
 */
final class ProxyConnection extends DelegatingConnection {

    private static final int AUTOCOMMIT = 1;
    private static final int ISOLATION = 2;
    private static final int READ_ONLY = 4;
    private static final int CATALOG = 8;
    private static final int SCHEMA = 16;
    private static final int NETWORK_TIMEOUT = 32;

    private static final AtomicIntegerFieldUpdater<ProxyConnection> CLOSED =
            AtomicIntegerFieldUpdater.newUpdater(ProxyConnection.class, "closed");

    final ConnectionPool pool;
    /** The SQL being prepared, while SQL statistics are on (see wrap). */
    private String preparing;
    final PoolEntry entry;
    private volatile int closed;
    /**
     * What runs on the connection, kept only while the pool can take connections back (a cap is on), in one word
     * so one CAS sees all of it: bit 63 set once the pool has taken it back (then nothing may start), bits 32-62
     * how many statements or commits have started (so a take-back can tell that one started and ended since it
     * looked), bits 0-31 how many run now.
     */
    private volatile long running;
    private static final long RECLAIMED = Long.MIN_VALUE;
    private static final long STARTED_ONE = 1L << 32;
    private static final long STARTS = 0x7FFF_FFFFL << 32;
    private static final long RUNNING_NOW = 0xFFFF_FFFFL;
    private static final java.util.concurrent.atomic.AtomicLongFieldUpdater<ProxyConnection> RUNNING =
            java.util.concurrent.atomic.AtomicLongFieldUpdater.newUpdater(ProxyConnection.class, "running");
    /**
     * For the idle-in-transaction cap only (written when it is on): when the connection was last used (a
     * statement's end, or a savepoint, schema or row change; the loan's start before any), and whether a
     * transaction is open (autocommit off and something ran, until commit, rollback or autocommit on).
     */
    volatile long lastActivity;
    volatile boolean inTransaction;
    /** The statement started last, while the hold cap is on: what it cancels on a driver that cannot abort. */
    volatile java.sql.Statement lastStarted;
    /** Why the pool took it back (the error every later statement gets); set before {@link #RECLAIMED}. */
    private volatile SQLException reclaimedBecause;
    /** 1 once the interceptors' onAcquire succeeded (their onReturn is then due), 2 once onReturn ran. */
    volatile int acquired;
    private static final AtomicIntegerFieldUpdater<ProxyConnection> ACQUIRED =
            AtomicIntegerFieldUpdater.newUpdater(ProxyConnection.class, "acquired");
    private int dirty;
    /** A statement ran while autocommit was off, and no commit or rollback followed. */
    private boolean transactionOpen;

    ProxyConnection(ConnectionPool pool, PoolEntry entry) {
        super(entry.connection);
        this.pool = pool;
        this.entry = entry;
    }

    @Override
    SQLException onSqlException(SQLException e) {
        // After close() the entry may already belong to another borrower: our errors say nothing about it.
        if (closed == 0) {
            pool.onSqlException(entry, e);
        }
        return e;
    }

    void beforeExecute() {
        if (!entry.autoCommit) {
            transactionOpen = true;
            if (pool.idleInTransactionNanos > 0) { // statements, savepoints, schema calls, row changes: activity
                inTransaction = true;
                lastActivity = pool.statementClock();
            }
        }
    }

    /** A statement starts: counted while the pool can take connections back, refused once it has. */
    void enterStatement(java.sql.Statement statement) throws SQLException {
        enterRunning();
        if (pool.maxHoldNanos > 0) {
            lastStarted = statement; // what the hold cap cancels on a driver that cannot abort
        }
        beforeExecute();
    }

    /**
     * Something that may write or commit starts (a statement, commit, rollback, setAutoCommit): counted while the
     * pool can take connections back, refused once it has. Does not mark a transaction open.
     */
    private void enterRunning() throws SQLException {
        if (pool.takesBack) {
            for (;;) {
                long w = running;
                if (w < 0) {
                    throw reclaimed();
                }
                long started = (((w & STARTS) + STARTED_ONE) & STARTS);
                if (RUNNING.compareAndSet(this, w, started | ((w & RUNNING_NOW) + 1))) {
                    break;
                }
            }
        }
    }

    /**
     * What {@link #enterRunning} let in has ended, however. The count never goes below zero, and the taken-back
     * bit stays: a statement aborted by the hold cap ends after the pool took the connection back, and must not
     * reopen it.
     */
    void exitStatement() {
        if (pool.takesBack) {
            if (pool.idleInTransactionNanos > 0) {
                lastActivity = pool.statementClock();
            }
            for (;;) {
                long w = running;
                if ((w & RUNNING_NOW) == 0 || RUNNING.compareAndSet(this, w, w - 1)) {
                    return;
                }
            }
        }
    }

    /** What runs on the connection now (see {@link #running}), for a take-back to compare against. */
    long runningWord() {
        return running;
    }

    /** Marks the interceptors' onAcquire as done (their onReturn is then due), unless the pool took it back. */
    void markAcquired() {
        ACQUIRED.compareAndSet(this, 0, 1);
    }

    private SQLException reclaimed() {
        SQLException why = reclaimedBecause;
        return new SQLException(why.getMessage(), "08003", why.getCause());
    }

    /**
     * The pool takes this connection back (leak reclaim, the caps): from now on nothing starts on it, and the
     * borrower's {@code close()} does nothing. Without {@code evenIfRunning}, only if the word is still
     * {@code seen} (a {@link #runningWord} read before the caller decided, with nothing running): so a statement
     * that started, and even ended, since then keeps the connection. Returns how many statements or commits were
     * running (0 unless {@code evenIfRunning}, when the caller must abort or cancel them), or -1 if it was not
     * taken (something ran since, or the borrower closed it first).
     */
    int takeBack(SQLException why, boolean evenIfRunning, long seen) {
        reclaimedBecause = why;
        long was;
        if (evenIfRunning) {
            if (closed != 0) {
                return -1;
            }
            for (;;) {
                was = running;
                if (RUNNING.compareAndSet(this, was, was | RECLAIMED)) {
                    break;
                }
            }
        } else if (seen >= 0 && (seen & RUNNING_NOW) == 0 && RUNNING.compareAndSet(this, seen, seen | RECLAIMED)) {
            was = seen;
        } else {
            return -1;
        }
        if (!CLOSED.compareAndSet(this, 0, 1)) {
            return -1; // the borrower closed it first: its close gives it back as usual
        }
        ACQUIRED.set(this, 2); // no onReturn: the borrower did not return it
        delegate = ClosedConnection.closed(why.getMessage(), why.getCause());
        return (int) (was & RUNNING_NOW);
    }

    /** How many statements or commits run now (they go on counting after a take-back, until they end). */
    int runningNow() {
        return (int) (running & RUNNING_NOW);
    }

    boolean isClosedByAnyone() {
        return closed != 0;
    }

    @Override
    Statement wrap(Statement statement) throws SQLException {
        dev.ferry.observe.SqlStatistics statistics = pool.statistics;
        return track(statistics == null ? new ProxyStatement(this, statement)
                : new TimedStatement(this, statement, statistics));
    }

    @Override
    PreparedStatement wrap(PreparedStatement statement) throws SQLException {
        dev.ferry.observe.SqlStatistics statistics = pool.statistics;
        if (statistics == null) {
            return track(new ProxyPreparedStatement(this, statement));
        }
        String sql = preparing;
        preparing = null;
        return track(new TimedPreparedStatement(this, statement, statistics.statement(sql == null ? "(unknown)" : sql)));
    }

    // With SQL statistics on, the SQL a statement is prepared with is kept for wrap() above (borrower-thread only,
    // as JDBC connections are), which the generated prepareStatement methods call with the driver's statement.

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        preparingIfTimed(sql);
        return super.prepareStatement(sql);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        preparingIfTimed(sql);
        return super.prepareStatement(sql, autoGeneratedKeys);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency)
            throws SQLException {
        preparingIfTimed(sql);
        return super.prepareStatement(sql, resultSetType, resultSetConcurrency);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency,
                                              int resultSetHoldability) throws SQLException {
        preparingIfTimed(sql);
        return super.prepareStatement(sql, resultSetType, resultSetConcurrency, resultSetHoldability);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int[] columnIndexes) throws SQLException {
        preparingIfTimed(sql);
        return super.prepareStatement(sql, columnIndexes);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, String[] columnNames) throws SQLException {
        preparingIfTimed(sql);
        return super.prepareStatement(sql, columnNames);
    }

    private void preparingIfTimed(String sql) {
        if (pool.statistics != null) {
            preparing = sql;
        }
    }

    @Override
    CallableStatement wrap(CallableStatement statement) throws SQLException {
        return track(new ProxyCallableStatement(this, statement));
    }

    /**
     * Statements are added by the borrower's thread (JDBC drivers do not support making statements on one
     * connection from several threads at once), and closing one changes nothing shared ({@link #untrack}), so
     * applications may close one connection's statements from several threads at once (HikariCP tests it). The
     * count is volatile and {@code closed} is checked after it is written, while close() reads the count after
     * setting {@code closed}: a statement made as the connection closes is seen by one side or both.
     */
    private <T extends ProxyStatement> T track(T statement) throws SQLException {
        if (pool.queryTimeoutSeconds > 0) {
            try {
                statement.delegate.setQueryTimeout(pool.queryTimeoutSeconds);
            } catch (SQLException e) {
                statement.delegate.close();
                throw e;
            }
        }
        PoolEntry e = entry;
        if (e.openStatementCount == e.openStatements.length) {
            compactOrGrow(e);
        }
        int n = e.openStatementCount;
        e.openStatements[n] = statement;
        e.openStatementCount = n + 1; // volatile: publishes the slot to close() (see closeStatements)
        if (closed != 0) {
            // close() ran while the statement was being made: it may not have seen it. Close it here (closing it
            // twice does nothing), and do not hand out a statement on a returned connection.
            statement.closeByPool();
            throw new SQLException("Connection is closed", "08003");
        }
        return statement;
    }

    /** Drops the statements the borrower closed; grows the list only if it is still full. */
    private static void compactOrGrow(PoolEntry e) {
        ProxyStatement[] statements = e.openStatements;
        int kept = 0;
        for (int i = 0; i < e.openStatementCount; i++) {
            if (!statements[i].isClosedByBorrower()) {
                statements[kept++] = statements[i];
            }
        }
        java.util.Arrays.fill(statements, kept, e.openStatementCount, null);
        e.openStatementCount = kept;
        if (kept == statements.length) {
            e.openStatements = Arrays.copyOf(statements, kept * 2);
        }
    }

    /**
     * A statement the borrower closed. Nothing shared changes here, so statements may be closed from any thread
     * at once without a lock: the statement's own flag says it is closed, {@link #track} drops closed ones when
     * the list is full, and the connection's close skips them.
     */
    void untrack(ProxyStatement statement) {
        // nothing to do: see above
    }

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        enterRunning(); // it may commit: never at the moment the pool takes the connection back
        try {
            super.setAutoCommit(autoCommit);
        } catch (SQLException e) {
            throw autoCommit && !entry.autoCommit ? pool.commitFailed(e, transactionOpen) : e; // JDBC commits here
        } finally {
            exitStatement();
        }
        entry.autoCommit = autoCommit;
        dirty |= AUTOCOMMIT;
        if (autoCommit) {
            transactionOpen = false; // JDBC commits when autocommit is switched on
            if (pool.idleInTransactionNanos > 0) {
                inTransaction = false;
            }
        }
    }

    @Override
    public void commit() throws SQLException {
        enterRunning(); // never at the moment the pool takes the connection back
        try {
            super.commit();
        } catch (SQLException e) {
            throw pool.commitFailed(e, transactionOpen);
        } finally {
            exitStatement();
        }
        transactionOpen = false;
        if (pool.idleInTransactionNanos > 0) {
            inTransaction = false;
        }
    }

    @Override
    public void rollback() throws SQLException {
        enterRunning(); // never at the moment the pool takes the connection back
        try {
            super.rollback();
        } finally {
            exitStatement();
        }
        transactionOpen = false;
        if (pool.idleInTransactionNanos > 0) {
            inTransaction = false;
        }
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        super.setTransactionIsolation(level);
        entry.isolation = level;
        dirty |= ISOLATION;
    }

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        super.setReadOnly(readOnly);
        entry.readOnly = readOnly;
        dirty |= READ_ONLY;
    }

    @Override
    public void setCatalog(String catalog) throws SQLException {
        super.setCatalog(catalog);
        entry.catalog = catalog;
        dirty |= CATALOG;
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        beforeExecute(); // pgjdbc runs SET search_path, which opens a transaction when autocommit is off
        super.setSchema(schema);
        entry.schema = schema;
        dirty |= SCHEMA;
    }

    @Override
    public String getSchema() throws SQLException {
        beforeExecute(); // pgjdbc runs SELECT current_schema()
        return super.getSchema();
    }

    @Override
    public java.sql.Savepoint setSavepoint() throws SQLException {
        beforeExecute();
        return super.setSavepoint();
    }

    @Override
    public java.sql.Savepoint setSavepoint(String name) throws SQLException {
        beforeExecute();
        return super.setSavepoint(name);
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        super.setNetworkTimeout(executor, milliseconds);
        entry.networkTimeout = milliseconds;
        dirty |= NETWORK_TIMEOUT;
    }

    /** Work done on the vendor connection is invisible to us: with autocommit off, assume a transaction is open. */
    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        T unwrapped = super.unwrap(iface);
        beforeExecute();
        return unwrapped;
    }

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        return new ProxyDatabaseMetaData(this, super.getMetaData());
    }

    @Override
    public boolean isClosed() throws SQLException {
        return closed != 0 || super.isClosed();
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        if (closed != 0) {
            return;
        }
        entry.evict("aborted by the application");
        try {
            delegate.abort(executor);
        } finally {
            close();
        }
    }

    /** Returns the connection to the pool. A second call does nothing. */
    @Override
    public void close() throws SQLException {
        if (acquired == 1 && ACQUIRED.compareAndSet(this, 1, 2)) {
            // The interceptors' onReturn, once, while the connection is still usable (see ConnectionInterceptor).
            String failed = pool.interceptors.release(this, pool.statementClock() - entry.lentAt);
            if (failed != null) {
                entry.evict(failed);
            }
        }
        if (!CLOSED.compareAndSet(this, 0, 1)) {
            return;
        }
        try {
            closeStatements();
            rollbackIfOpen();
            if (!entry.evict) {
                restore();
            }
            if (entry.requestBoundaries && !entry.evict) {
                endDriverRequest();
            }
        } catch (Throwable t) {
            // Not SQLException or RuntimeException (those are handled step by step): never lend it again.
            entry.evict("broken: " + t);
            throw t;
        } finally {
            delegate = ClosedConnection.INSTANCE;
            pool.release(entry);
        }
    }

    private void closeStatements() {
        PoolEntry e = entry;
        int count = e.openStatementCount; // after closed was set: see track
        if (count == 0) {
            return;
        }
        PoolEntry.resetStatementCount(e); // no fence needed: the entry is ours until release() publishes it
        ProxyStatement[] statements = e.openStatements;
        for (int i = count - 1; i >= 0; i--) {
            ProxyStatement statement = statements[i];
            statements[i] = null;
            try {
                statement.closeByPool();
            } catch (SQLException | RuntimeException ex) {
                noteResetFailure(ex);
            }
        }
    }

    /**
     * A no-op: the pool itself marks each loan as one request on drivers that implement request boundaries
     * (JDBC 4.3 meant them for pool managers), so a caller's own call must not nest another inside it.
     */
    @Override
    public void beginRequest() {
    }

    /** A no-op, as {@link #beginRequest()}: the pool ends the request when the connection comes back. */
    @Override
    public void endRequest() {
    }

    /** Tells the driver the loan has ended (JDBC 4.3), after the pool's own reset; a failure evicts. */
    private void endDriverRequest() {
        try {
            delegate.endRequest();
        } catch (SQLException | RuntimeException e) {
            entry.evict("endRequest failed: " + e);
        }
    }

    /** Rolls back work the borrower did not commit; a failure retires the connection. */
    private void rollbackIfOpen() {
        if (transactionOpen && !entry.autoCommit) {
            try {
                entry.connection.rollback();
                transactionOpen = false;
            } catch (SQLException | RuntimeException e) {
                noteResetFailure(e);
            }
        }
    }

    /**
     * Undoes what the borrower changed; any failure here retires the connection. With autocommit off, the resets
     * that run SQL (PostgreSQL's schema, for one) are committed, or the next borrower's rollback would undo them.
     */
    private void restore() {
        Connection raw = entry.connection;
        try {
            boolean sessionReset = (dirty & (ISOLATION | CATALOG | SCHEMA | READ_ONLY)) != 0;
            if (sessionReset && !entry.autoCommit) {
                // These resets may run SQL (PostgreSQL's SET search_path), which we commit below so the next
                // borrower's rollback cannot undo them; roll back first, so only they can be in that commit
                // (the borrower may have worked through unwrap(), which we cannot see).
                raw.rollback();
            }
            if ((dirty & AUTOCOMMIT) != 0 && entry.autoCommit != pool.defaultAutoCommit) {
                raw.setAutoCommit(pool.defaultAutoCommit);
                entry.autoCommit = pool.defaultAutoCommit;
            }
            if ((dirty & READ_ONLY) != 0 && entry.readOnly != pool.defaultReadOnly) {
                raw.setReadOnly(pool.defaultReadOnly);
                entry.readOnly = pool.defaultReadOnly;
            }
            if ((dirty & ISOLATION) != 0 && entry.isolation != entry.initialIsolation) {
                raw.setTransactionIsolation(entry.initialIsolation); // -1 (unknown) fails: the connection retires
                entry.isolation = entry.initialIsolation;
            }
            // Catalog and schema are reset whenever the borrower set them, whatever we think they are now: a
            // rollback can undo a SET the borrower ran, so our record of the value cannot be trusted.
            if ((dirty & CATALOG) != 0) {
                requireKnown(entry.initialCatalog, "catalog");
                raw.setCatalog(entry.initialCatalog);
                entry.catalog = entry.initialCatalog;
            }
            if ((dirty & SCHEMA) != 0) {
                requireKnown(entry.initialSchema, "schema");
                raw.setSchema(entry.initialSchema);
                entry.schema = entry.initialSchema;
            }
            if ((dirty & NETWORK_TIMEOUT) != 0 && entry.networkTimeout != entry.initialNetworkTimeout) {
                raw.setNetworkTimeout(pool.networkTimeoutExecutor(), entry.initialNetworkTimeout);
                entry.networkTimeout = entry.initialNetworkTimeout;
            }
            if (sessionReset && !entry.autoCommit) {
                raw.commit();
            }
            raw.clearWarnings();
        } catch (SQLException | RuntimeException e) {
            noteResetFailure(e);
        }
    }

    /** A property the driver could not report at connect cannot be reset: the connection is retired instead. */
    private static void requireKnown(String initial, String property) throws SQLException {
        if (initial == null) {
            throw new SQLException("the driver did not report the initial " + property + ", so the one the "
                    + "borrower set cannot be undone", "HY000");
        }
    }

    /** Whether the borrower has given this connection back (its entry may belong to someone else now). */
    boolean isClosedByPool() {
        return closed != 0;
    }

    private void noteResetFailure(Exception e) {
        pool.markBroken(entry, e);
    }

    @Override
    public String toString() {
        return "FerryConnection{pool=" + pool.poolName() + ", " + (closed != 0 ? "closed" : delegate.toString()) + "}";
    }
}
