package dev.ferry.pool;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * One connection budget shared by a data source's main pool and its per-user pools
 * ({@link UserPools}): together they open no more physical connections than the main pool's cap, as a single
 * pool's budget counts them (the main pool's emergency reserve is beyond it, and a close that outlives
 * validationTimeout has given its place back already; see ConnectionPool's notes on the budget).
 *
 * <h2>Design notes</h2>
 *
 * <p><b>Counting.</b> Each member pool still counts its own connections against its own cap; a connect also takes
 * a place here, by compare-and-set below the cap, after its pool's own place and before it starts, and gives it
 * back when the pool gives back its own (a failed connect, or a close that finished or outlived
 * validationTimeout). The main pool's first connection, made before any user pool exists, is counted without the
 * check, as it is in the pool's own count.
 *
 * <p><b>Making room.</b> Connections of different users cannot be shared, so a pool whose callers wait while the
 * budget is full gets room from the others: an idle connection of another member is closed for it
 * ({@link #makeRoom}), or else, when a member's connection comes back and that member has nobody waiting, the
 * connection is closed instead of kept idle ({@link #yieldsReturned}); so is a connection a member has just
 * opened for a demand that has gone meanwhile (not a member's first). Places being freed so count as {@link #yielding}, and while that
 * count is at least the callers waiting (beyond idle connections and connects under way, and no more than the
 * member could open below its own cap, none while it backs off after failed connects) in the asking member, or
 * across the others for a returned connection, none more is freed: one caller's demand asked for again on each
 * new waiter does not close one connection each time. When the cap comes down at run time, returned connections
 * of members with nobody waiting are closed until the budget is back at it. When a place comes
 * back, every member with callers waiting is asked to connect ({@link ConnectionPool#requestConnections}); the
 * first to take the place gets it. A member serves its own waiters first: a connection returned to a pool with
 * callers waiting goes to them, so under saturation one pool's queue waits for another's to drain.
 *
 * <p>No lock: the count is one atomic, the members a copy-on-write list (joined and left rarely). Closing a
 * connection for room fires the victim pool's eviction event, and a place given back may start a connector
 * thread, on the calling thread, as any retire or return does; nothing here holds a lock while they run.
 */
final class SharedBudget {

    private final IntSupplier cap;
    private final AtomicInteger open = new AtomicInteger();
    /** Places being freed for a waiting member: connections chosen to close whose close has not given the place back. */
    private final AtomicInteger yielding = new AtomicInteger();
    private final CopyOnWriteArrayList<ConnectionPool> members = new CopyOnWriteArrayList<>();

    /** @param cap the budget: the main pool's cap (maximumPoolSize, lowered by a server-aware cap) */
    SharedBudget(IntSupplier cap) {
        this.cap = cap;
    }

    void join(ConnectionPool pool) {
        members.addIfAbsent(pool);
    }

    void leave(ConnectionPool pool) {
        members.remove(pool);
    }

    /** Takes a place if one is free. */
    boolean tryClaim() {
        for (;;) {
            int now = open.get();
            if (now >= cap.getAsInt()) {
                return false;
            }
            if (open.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    /** Takes a place without the check (the main pool's first connection, before any user pool exists). */
    void claim() {
        open.incrementAndGet();
    }

    /**
     * Gives a place back, and asks every member with callers waiting to connect. Called with no lock held.
     *
     * @param yielded whether the place was freed for another member ({@link #makeRoom}, {@link #yieldsReturned})
     */
    void release(boolean yielded) {
        open.decrementAndGet();
        if (yielded) {
            yielding.decrementAndGet();
        }
        for (ConnectionPool member : members) {
            if (member.unserved() > 0) {
                member.requestConnections();
            }
        }
    }

    /** Whether a member other than {@code pool} has callers waiting beyond its idle connections and connects. */
    boolean othersWait(ConnectionPool pool) {
        for (ConnectionPool member : members) {
            if (member != pool && member.unservedBeyondConnects() > 0) {
                return true;
            }
        }
        return false;
    }

    boolean isFull() {
        return open.get() >= cap.getAsInt();
    }

    /** Connections counted now, across members (for tests and operators). */
    int open() {
        return open.get();
    }

    /**
     * Closes one idle connection of another member for {@code asking}, whose {@code wanted} callers wait beyond
     * the connects it has under way, unless enough places are being freed already.
     */
    void makeRoom(ConnectionPool asking, int wanted) {
        if (!reserveYield(wanted)) {
            return;
        }
        // The member with the most idle connections first; if another borrower took them meanwhile, the next.
        // (Counts read once: they change while we look, and a sort must compare fixed values.)
        java.util.List<java.util.Map.Entry<ConnectionPool, Integer>> byIdle = new java.util.ArrayList<>();
        for (ConnectionPool member : members) {
            int idle = member == asking ? 0 : member.idleConnections();
            if (idle > 0) {
                byIdle.add(java.util.Map.entry(member, idle));
            }
        }
        byIdle.sort(java.util.Map.Entry.<ConnectionPool, Integer>comparingByValue().reversed());
        for (java.util.Map.Entry<ConnectionPool, Integer> victim : byIdle) {
            if (victim.getKey().yieldIdle(asking)) {
                return;
            }
        }
        yielding.decrementAndGet(); // nothing idle elsewhere: a return frees a place (yieldsReturned)
    }

    /**
     * Whether {@code returning}, which has nobody waiting, should close a connection just returned rather than keep
     * it idle: the budget is over its cap (lowered at run time), or another member's callers wait with the budget
     * full. True means the caller closes it as yielded.
     */
    boolean yieldsReturned(ConnectionPool returning) {
        int now = open.get();
        int limit = cap.getAsInt();
        if (now > limit) {
            return reserveYield(now - limit);
        }
        if (now < limit) {
            return false;
        }
        int wanted = 0;
        for (ConnectionPool member : members) {
            if (member != returning) {
                wanted += member.unservedBeyondConnects();
            }
        }
        return wanted > 0 && reserveYield(wanted);
    }

    /** Counts one more place being freed if fewer than {@code wanted} are. */
    private boolean reserveYield(int wanted) {
        for (;;) {
            int now = yielding.get();
            if (now >= wanted) {
                return false;
            }
            if (yielding.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }
}
