package dev.ferry.pool;

import dev.ferry.MultipleAcquisition;
import dev.ferry.PoolEvent;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The double-borrow guard ({@code multipleAcquisition} WARN or FAIL): which of the pool's connections each thread
 * holds, and the stack each was borrowed at. A pool with ALLOW has no guard (its field is null), so its borrows
 * and returns pay nothing for it.
 *
 * <h2>Design notes</h2>
 *
 * <p>A thread's connections are kept in its {@link Holdings} (a {@link ThreadLocal}, so virtual threads have
 * their own). The check runs before a borrow can wait, which is where the nested borrow deadlocks. A connection
 * may be closed on another thread than its borrower's, so the entry remembers the {@link Holdings} it was added
 * to and the return removes it from there. A {@link Holdings} is guarded by its own monitor, held only for list
 * operations: nothing under it blocks or calls user code.
 *
 * <p>Each borrow captures its stack (an exception created, not thrown): that is the price of WARN and FAIL, which
 * are meant for tests and staging, as leak detection's stacks are.
 */
final class AcquisitionGuard {

    private final MultipleAcquisition action;
    private final String poolName;
    private final ThreadLocal<Holdings> holdings = ThreadLocal.withInitial(Holdings::new);

    AcquisitionGuard(MultipleAcquisition action, String poolName) {
        if (action == MultipleAcquisition.ALLOW) {
            throw new IllegalArgumentException("no guard is built for ALLOW");
        }
        this.action = action;
        this.poolName = poolName;
    }

    /**
     * Before a borrow may wait: if this thread holds a connection already, FAIL gets the exception to throw, and
     * WARN fires the event (outside any lock) and goes on. Null when the borrow may go on.
     */
    SQLException check(PoolEvents events) {
        Holdings mine = holdings.get();
        Held first = mine.first();
        if (first == null) {
            return null;
        }
        String thread = Thread.currentThread().getName();
        Exception askedAt = new Exception("a second connection asked for here by thread " + thread
                + "; the cause is where the connection it holds was borrowed", first.site());
        if (action == MultipleAcquisition.FAIL) {
            return new SQLException(poolName + " - multipleAcquisition=FAIL: thread " + thread + " asked for a "
                    + "second connection while holding " + first.connection() + " (" + first.count()
                    + " held); a nested borrow deadlocks once every connection is held by a thread waiting for "
                    + "its second. Refused at once, nothing waited; use the held connection, or set "
                    + "multipleAcquisition to WARN or ALLOW", "HY000", askedAt);
        }
        events.fire(new PoolEvent.MultipleAcquisition(poolName, thread, first.connection(), askedAt));
        return null;
    }

    /** Records that this thread now holds {@code entry}, borrowed here. */
    void lent(PoolEntry entry) {
        Holdings mine = holdings.get();
        mine.add(entry, new Exception("connection " + entry + " borrowed here by thread "
                + Thread.currentThread().getName()));
    }

    /** {@code entry} came back (on whatever thread): its borrower no longer holds it. */
    void released(PoolEntry entry) {
        Holdings holder = entry.holder;
        if (holder != null) {
            entry.holder = null;
            holder.remove(entry);
        }
    }

    /** The first connection a thread holds, where it was borrowed, and how many it holds. */
    record Held(String connection, Throwable site, int count) {
    }

    /** One thread's connections of this pool. */
    static final class Holdings {
        private final List<PoolEntry> entries = new ArrayList<>(2);
        private final List<Throwable> sites = new ArrayList<>(2);

        synchronized void add(PoolEntry entry, Throwable site) {
            entry.holder = this;
            entries.add(entry);
            sites.add(site);
        }

        synchronized void remove(PoolEntry entry) {
            for (int i = 0; i < entries.size(); i++) {
                if (entries.get(i) == entry) {
                    entries.remove(i);
                    sites.remove(i);
                    return;
                }
            }
        }

        synchronized Held first() {
            return entries.isEmpty() ? null : new Held(entries.get(0).toString(), sites.get(0), entries.size());
        }
    }
}
