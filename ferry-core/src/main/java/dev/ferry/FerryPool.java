package dev.ferry;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;

/**
 * A running pool as seen from outside: its state and the settings that may change while it runs. Obtain it
 * with {@code dataSource.unwrap(FerryPool.class)}.
 */
public interface FerryPool {

    String poolName();

    /** Physical connections open now, lent or idle. */
    int totalConnections();

    /** Connections lent to borrowers now. */
    int activeConnections();

    /** Connections ready to lend now. */
    int idleConnections();

    /** Callers waiting for a connection now. */
    int waitingThreads();

    int maximumPoolSize();

    /**
     * The pool's per-statement figures (calls, errors, rows, mean/p95/max per fingerprint, {@code topSlowest}),
     * when sqlStatistics or slowStatementThreshold is set; empty otherwise.
     */
    java.util.Optional<dev.ferry.observe.SqlStatistics> sqlStatistics();

    /**
     * Borrows a connection, waiting at most {@code maxWait} or connectionTimeout, whichever is shorter: for work
     * with a deadline of its own (Ferry's batchers use it so a pool wait never outlasts a request's deadline).
     *
     * @throws SQLException as {@link javax.sql.DataSource#getConnection()}, after the shorter wait
     */
    Connection getConnection(Duration maxWait) throws SQLException;

    /**
     * Borrows a connection at this priority: waiting callers are served CRITICAL first, then NORMAL, then BULK
     * (BULK aged in after a second), first come first served within one. A CRITICAL caller may open one of the
     * {@code reserve} connections beyond maximumPoolSize when no other is free.
     */
    Connection getConnection(Priority priority) throws SQLException;

    /** {@link #getConnection(Priority)}, waiting at most {@code maxWait} or connectionTimeout, the shorter. */
    Connection getConnection(Priority priority, Duration maxWait) throws SQLException;

    /** How long the caller waiting longest for a connection has waited; zero if nobody waits. */
    Duration oldestWait();

    /** Whether the pool is overloaded now (queueWaitTarget exceeded for overloadInterval; false if not set). */
    boolean isOverloaded();

    /** Times a CRITICAL caller opened a connection from the emergency reserve (each is also logged at WARN). */
    long reserveUses();

    int minimumIdle();

    /**
     * Changes the upper bound while running. Growing takes effect at once; shrinking retires idle connections
     * above the new bound right away and lent ones when they are returned (never from under a borrower).
     *
     * A minimumIdle the user never set is the default (maximumPoolSize) and shrinks with it.
     *
     * @throws IllegalArgumentException if {@code size < 1}, or below a minimumIdle the user set
     */
    void setMaximumPoolSize(int size);

    /**
     * Changes how many idle connections the pool keeps ready.
     *
     * @throws IllegalArgumentException if negative or above maximumPoolSize
     */
    void setMinimumIdle(int minimumIdle);

    /** Retires every connection: idle ones now, lent ones when returned. New ones are made as needed. */
    void softEvictConnections();

    /**
     * Evicts the connection behind a borrowed {@code connection}: it is never lent again, and is rolled back and
     * closed when the borrower closes it.
     *
     * @return false if it is not an open connection of this pool
     */
    boolean evictConnection(Connection connection);

    /**
     * Opens connections on the calling thread until {@code connections} are open (idle or lent) or
     * {@code timeout} has passed, before the application takes traffic; then {@link #isReady()} holds. Connections
     * above minimumIdle are kept as any idle connection is (until idleTimeout).
     *
     * @throws IllegalArgumentException if {@code connections} is not between 1 and maximumPoolSize
     */
    WarmUp warmUp(int connections, Duration timeout);

    /**
     * Ready for traffic: running, not suspended, and, once {@link #warmUp} has been called, the last warm-up's
     * target reached (by the warm-up, or later by the pool filling itself; a gate that stays open once reached).
     */
    boolean isReady();

    /**
     * Stops lending: borrowers wait (up to connectionTimeout) until {@link #resume()}; lent connections are
     * unaffected. Needs {@code allowPoolSuspension=true}.
     *
     * @throws IllegalStateException if pool suspension is not allowed
     */
    void suspend();

    /** Resumes lending after {@link #suspend()}, waking waiting borrowers. */
    void resume();

    boolean isSuspended();

    /** The most connections the pool may open now: maximumPoolSize, lowered by a server-aware cap. */
    int connectionCap();

    /** Connections the sizing policy asks the pool to hold open now (within the cap); 0 without a policy. */
    int sizingTarget();

    /** The sizing policy, or null for HikariCP's sizing. */
    dev.ferry.capacity.SizingPolicy sizingPolicy();

    /**
     * Replaces the sizing policy while running (null: HikariCP's sizing); it is consulted at once.
     *
     * @throws IllegalArgumentException if the policy asks for more than maximumPoolSize
     */
    void setSizingPolicy(dev.ferry.capacity.SizingPolicy policy);

    /** The last server share read for the server-aware cap, or null (cap off, or not read yet). */
    dev.ferry.capacity.ServerShare serverShare();

    /** Connections beyond maximumPoolSize that CRITICAL callers may open when no other is free. */
    int reserve();

    /**
     * Changes the emergency reserve while running. Reserve connections open now are closed when returned (unless
     * a CRITICAL caller waits), so a smaller reserve takes effect as they come back.
     *
     * @throws IllegalArgumentException if negative or above 10000
     */
    void setReserve(int reserve);

    /**
     * Borrows a connection in a lane (null: the main lane) at this priority; see {@code FerryDataSource.lane}.
     *
     * @throws SQLException as {@link javax.sql.DataSource#getConnection()}, or if there is no such lane
     */
    Connection getConnection(String lane, Priority priority) throws SQLException;

    /** Each lane's settings and use now (the main lane included); empty when no lanes are configured. */
    java.util.List<dev.ferry.capacity.LaneBudget.LaneState> lanes();

    /**
     * Changes a lane's minimum, cap and weight while running (by name); waiters are served under the new
     * settings at once, lent connections are not taken back.
     *
     * @throws IllegalArgumentException if there is no such lane, or the minimums would exceed maximumPoolSize
     * @throws IllegalStateException    if the pool was built without lanes
     */
    void setLane(dev.ferry.capacity.Lane lane);
}
