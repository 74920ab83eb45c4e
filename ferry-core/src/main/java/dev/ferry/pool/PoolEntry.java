package dev.ferry.pool;

import java.sql.Connection;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One physical connection and what the pool knows of it. Ownership is the {@link #state} field: whoever moves
 * it from {@link #IDLE} to {@link #IN_USE} (or {@link #RESERVED}) by CAS owns the connection until it moves it
 * back. Every other field is written only by the owner, except {@link #evict}, which anyone may set.
 */
final class PoolEntry extends CacheLinePadding {

    static final int IDLE = 0;
    static final int IN_USE = 1;
    /** Held by housekeeping (keepalive, retirement): not lendable, not in a borrower's hands. */
    static final int RESERVED = -1;
    /** Closed and out of the bag. */
    static final int REMOVED = -2;

    private static final AtomicIntegerFieldUpdater<PoolEntry> STATE =
            AtomicIntegerFieldUpdater.newUpdater(PoolEntry.class, "state");
    private static final AtomicIntegerFieldUpdater<PoolEntry> STATEMENT_COUNT =
            AtomicIntegerFieldUpdater.newUpdater(PoolEntry.class, "openStatementCount");

    final Connection connection;
    /** Made once, so a thread's "last returned" hint costs no allocation per return. */
    final java.lang.ref.WeakReference<PoolEntry> self = new java.lang.ref.WeakReference<>(this);
    final long createdAt;
    /**
     * When this connection retires: for age (maxLifetime, jittered per connection so a pool never retires all at
     * once), or before the credentials it was opened with expire, whichever is first. Only if {@link #retires}.
     */
    final long retireAt;
    /** Whether {@link #retireAt} applies: maxLifetime is set, or the connection's credentials expire. */
    final boolean retires;
    /** Whether {@link #retireAt} comes from the credentials' expiry (it was earlier than maxLifetime's). */
    boolean retiresForCredentials;

    private volatile int state = IN_USE;
    /** Opened from the emergency reserve for a CRITICAL caller: closed when returned unless one waits. */
    boolean reserve;
    /** Closed to free a place in a shared budget for another pool ({@link SharedBudget}); set before the close. */
    boolean yielded;
    /** Set when the connection must not be lent again: fatal error seen, lifetime reached, pool shrunk. */
    volatile boolean evict;
    /** Why {@link #evict} was set (the first reason given), written before it. */
    private volatile String evictReason;
    /**
     * For the leak events of the present borrow: null (undecided), the borrow site (its leak check reported it
     * first) or {@link #RETURNED} (it was returned first). Reset by the borrower at lend.
     */
    volatile Throwable leakReport;
    static final Throwable RETURNED = new Throwable("returned", null, false, false) {
    };
    static final java.util.concurrent.atomic.AtomicReferenceFieldUpdater<PoolEntry, Throwable> LEAK_REPORT =
            java.util.concurrent.atomic.AtomicReferenceFieldUpdater.newUpdater(PoolEntry.class, Throwable.class,
                    "leakReport");
    /**
     * Last return to the pool, for idle validation and idle retirement. Plain, like every owner-written field:
     * the returner writes it before publishing IDLE (a volatile write), and readers read the state first.
     */
    long lastAccessed;
    /**
     * The "last returned" slot of the thread that borrowed this entry (see {@link ConnectionBag#poll}), so a
     * return writes the hint without a thread-local lookup.
     */
    Object[] hintSlot;
    /** Last time the connection was known alive (validation, keepalive, successful use). */
    volatile long lastAlive;

    // Connection state as it is now on the wire; the proxy updates these, the pool resets them on return.
    boolean autoCommit;
    boolean readOnly;
    int isolation;
    String catalog;
    String schema;
    int networkTimeout;

    // What the connection looked like when made (after the pool applied its settings): reset targets. An
    // isolation or network timeout of -1, or a null catalog or schema, means the driver could not say.
    int initialIsolation;
    String initialCatalog;
    String initialSchema;
    int initialNetworkTimeout;
    /** Whether the driver supports network timeouts on this connection (pool I/O is bounded with them). */
    boolean networkTimeoutSupported;

    /** Statements the current borrower made (closed ones are dropped lazily); kept here so a lend allocates none. */
    ProxyStatement[] openStatements = new ProxyStatement[8];
    /** Volatile: the borrower's thread writes it, and a close() on another thread must see it (ProxyConnection). */
    volatile int openStatementCount;

    /** Marks the connection so it is never lent again, for {@code reason} (kept if it is the first). */
    void evict(String reason) {
        if (evictReason == null) {
            evictReason = reason;
        }
        evict = true;
    }

    /** Why it was marked evicted; "evicted" if no reason was given. */
    String evictReason() {
        String r = evictReason;
        return r == null ? "evicted" : r;
    }

    /** The driver implements JDBC 4.3 request boundaries: each loan is one request ({@code beginRequest}/{@code endRequest}). */
    boolean requestBoundaries;
    /**
     * Set on a connection taken back that the driver would not abort (see ConnectionPool.checkHold): the closer
     * cancels what still runs through it and rolls back before closing. Null otherwise.
     */
    volatile ProxyConnection reclaimedWithoutAbort;
    /** The pending leak-reclaim / hold-cap check of the current loan, cancelled when it comes back. */
    java.util.concurrent.Future<?> holdCheck;
    /** The borrowing thread's holdings, while lent with the double-borrow guard on; null otherwise. */
    volatile AcquisitionGuard.Holdings holder;
    /** The borrower's stack, captured when leak detection is on. */
    Throwable borrowSite;
    Future<?> leakCheck;
    long borrowedAt;
    /** The lane the borrower was admitted to (it leaves the lane when the connection is returned); null if none. */
    dev.ferry.capacity.LaneBudget.Slot lane;
    /**
     * When it was last lent, written at lend only while a sizing policy measures holds (plain, owner-written).
     * Starts long before lastAccessed (2^62 ns, about 146 years, so differences do not overflow), so "lent since
     * last returned" ({@code lentAt - lastAccessed >= 0}) holds only for a connection out with a borrower now,
     * and a connection never lent does not count as lent in any sizing period.
     */
    long lentAt;

    /** Why it retires at {@link #retireAt}, for the eviction event and the log. */
    String ageReason() {
        return retiresForCredentials ? "credentials about to expire" : "lifetime reached";
    }

    /** An entry that never retires for age (the bag's markers and tests). */
    PoolEntry(Connection connection, long createdAt, long retireAt) {
        this(connection, createdAt, retireAt, false);
    }

    PoolEntry(Connection connection, long createdAt, long retireAt, boolean retires) {
        this.connection = connection;
        this.createdAt = createdAt;
        this.retireAt = retireAt;
        this.retires = retires;
        this.lastAccessed = createdAt;
        this.lastAlive = createdAt;
        this.lentAt = createdAt - (1L << 62);
    }

    /** Empties the statement list with an ordered (release) store: cheaper than a volatile write's fence. */
    static void resetStatementCount(PoolEntry e) {
        STATEMENT_COUNT.lazySet(e, 0);
    }

    int state() {
        return state;
    }

    boolean compareAndSet(int expect, int update) {
        return STATE.compareAndSet(this, expect, update);
    }

    void setState(int update) {
        state = update;
    }

    @Override
    public String toString() {
        return "PoolEntry{" + connection.getClass().getSimpleName() + "@"
                + Integer.toHexString(System.identityHashCode(connection)) + ", state=" + state
                + ", evict=" + evict + "}";
    }
}
