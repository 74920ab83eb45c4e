package dev.ferry;

import java.time.Duration;

/**
 * Something a pool did or saw that an operator may act on, delivered to {@link FerryListener}s. Every event
 * names its pool; none carries a password or a statement's literal values.
 */
public sealed interface PoolEvent {

    /** The pool that raised the event. */
    String pool();

    /**
     * A caller had to wait with no idle connection and the pool at its cap: it cannot grow to serve the demand.
     * Raised once, until {@link Recovered}. Connections being opened or closed count against the cap, so
     * {@code total} may be below {@code cap}.
     *
     * @param total   physical connections open (not those being opened or closed)
     * @param active  connections lent
     * @param waiting callers waiting for a connection, this one included
     * @param cap     the most connections the pool may open now (maximumPoolSize, or a lower server-aware cap)
     */
    record Exhausted(String pool, int total, int active, int waiting, int cap) implements PoolEvent {
    }

    /**
     * After {@link Exhausted}: a connection was returned, or housekeeping ran, with nobody waiting and no caller
     * having waited at the cap for a second.
     *
     * @param exhaustedFor how long the pool was exhausted
     * @param timeouts     callers that timed out meanwhile
     */
    record Recovered(String pool, Duration exhaustedFor, long timeouts) implements PoolEvent {
    }

    /**
     * A CRITICAL caller opened a connection beyond maximumPoolSize from the emergency reserve.
     *
     * @param uses    reserve uses since the pool started, this one included
     * @param open    connections open now, the reserve's included
     * @param reserve the reserve's size
     */
    record ReserveUsed(String pool, long uses, int open, int maximumPoolSize, int reserve) implements PoolEvent {
    }

    /**
     * A connection has been out longer than leakDetectionThreshold.
     *
     * @param connection   the connection (its description, as in the log)
     * @param heldFor      how long it has been out
     * @param borrowerSite where it was borrowed: the stack of the borrower's {@code getConnection}
     */
    record LeakSuspected(String pool, String connection, Duration heldFor, Throwable borrowerSite)
            implements PoolEvent {
    }

    /**
     * A thread that holds a connection asked for another, with {@code multipleAcquisition=WARN} (with FAIL the
     * borrow is refused instead, and the same stacks travel in the exception).
     *
     * @param thread    the thread's name
     * @param held      the connection it holds (its description, as in the log)
     * @param askedAt   where the second connection was asked for; its cause is where the held one was borrowed
     */
    record MultipleAcquisition(String pool, String thread, String held, Throwable askedAt) implements PoolEvent {
    }

    /**
     * The pool took back a lent connection: held past leakReclaimTimeout with no statement running, past
     * maxHoldTime, or idle inside a transaction past idleInTransactionTimeout. The connection was aborted (which
     * rolls its transaction back on the server, and ends a running statement), or, where the driver cannot abort,
     * its running statement cancelled and its transaction rolled back before the close; the borrower's handle
     * fails from then on.
     *
     * @param connection   the connection (its description, as in the log)
     * @param heldFor      how long it had been lent
     * @param why          which cap: {@code leakReclaimTimeout=<ms>ms}, {@code maxHoldTime=<ms>ms} (with
     *                     {@code (a statement was aborted)} when one ran) or {@code idleInTransactionTimeout=<ms>ms}
     * @param borrowerSite where it was borrowed
     */
    record ConnectionReclaimed(String pool, String connection, Duration heldFor, String why, Throwable borrowerSite)
            implements PoolEvent {
    }

    /** A connection reported as {@link LeakSuspected} was returned after all, after {@code heldFor}. */
    record LeakReturned(String pool, String connection, Duration heldFor) implements PoolEvent {
    }

    /**
     * A statement took longer than slowStatementThreshold.
     *
     * @param fingerprint the statement with its literals replaced by {@code ?}
     * @param elapsed     how long its execute call took
     */
    record SlowStatement(String pool, String fingerprint, Duration elapsed, Duration threshold)
            implements PoolEvent {
    }

    /**
     * A physical connection was taken out of the pool to be closed.
     *
     * @param reason why: {@code lifetime reached}, {@code idle timeout}, {@code broken (SQLState <state>): <the error>},
     *               {@code evicted by the application}, {@code aborted by the application}, {@code failed
     *               validation before lending}, {@code failed keepalive}, {@code soft eviction}, {@code pool
     *               shrunk}, {@code idle above the sizing target}, {@code pool closed}, ...
     */
    record ConnectionEvicted(String pool, String connection, String reason) implements PoolEvent {
    }

    /**
     * The pool's size changed: {@code setMaximumPoolSize} (by the application or JMX).
     */
    record Resized(String pool, int oldMaximumPoolSize, int newMaximumPoolSize) implements PoolEvent {
    }

    /**
     * A read replica was left out of read routing for {@code banTime} ({@code FerryDataSource.reads()}).
     *
     * @param replica the replica's JDBC URL, its password masked
     * @param reason  why: the connection error, or the replication lag above maxReplicationLag
     */
    record ReplicaBanned(String pool, String replica, String reason, Duration banTime) implements PoolEvent {
    }

    /** A banned replica's ban ended: reads may go to it again (it is tried at the next read). */
    record ReplicaUnbanned(String pool, String replica) implements PoolEvent {
    }

    /**
     * Writes moved to another host: the primary could not be reached, or was demoted, and {@code to} answered as a
     * primary (failover, on by default with replicas). Connections to {@code from} are evicted.
     *
     * @param from   the old primary's JDBC URL, its password masked
     * @param to     the new primary's
     * @param outage from the first failure to reach {@code from} to the first connection to {@code to}
     */
    record Failover(String pool, String from, String to, Duration outage) implements PoolEvent {
    }

    /**
     * A caller was refused at once because callers have waited longer than queueWaitTarget for a while
     * (shedOnOverload). Raised once per overload episode, not per refused caller.
     *
     * @param priority the refused caller's priority
     * @param waiting  callers waiting when it was refused
     */
    record Shed(String pool, Priority priority, Duration queueWaitTarget, int waiting) implements PoolEvent {
    }
}
