package dev.ferry.pool;

import dev.ferry.Priority;
import dev.ferry.Ticker;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The set of pooled connections and the queue of callers waiting for one.
 *
 * <h2>Design notes</h2>
 *
 * <p><b>Ownership.</b> Each {@link PoolEntry} carries a state word; a connection belongs to whoever moved it from
 * IDLE to IN_USE by compare-and-set. No lock guards lending: the entries live in a copy-on-write array
 * ({@link #entries}) that borrowers scan without locking, and the lock only serialises the rare add and remove.
 *
 * <p><b>Fast path.</b> A borrower first tries the entry it returned last (a per-thread hint, so a thread that
 * borrows and returns in a loop touches one cache line), then scans the array. Both are a CAS per candidate:
 * no lock, no allocation, no waiting. This is the whole cost when a connection is free.
 *
 * <p><b>Waiting: two modes, after Go's {@code sync.Mutex}.</b> When nothing is free a borrower joins a FIFO queue
 * of {@link Waiter}s and parks. It counts as waiting, and as demand ({@link #unserved()}: waiters not yet handed
 * a connection), before it asks the pool for a new connection, so the pool always sees it. What a return does
 * depends on the mode:
 * <ul>
 *   <li><em>Normal mode</em>: the connection goes back to the array as IDLE and the oldest waiter is woken to
 *       take it, unless it holds the outstanding wake already (woken, not yet gone); a waiter that is running
 *       without having been woken is passed over for the next one. So one wake is outstanding at a time, and a
 *       return wakes at most one waiter. A running
 *       thread that asks in the meantime may get the connection first. That keeps threads that are on a CPU
 *       working instead of handing every connection to a thread that first has to be scheduled (strict hand-off
 *       costs a context switch per borrow: we measured a 60x throughput loss with 32 threads on a pool of 8, and
 *       waking one thread per return convoys them too). The woken waiter, when it leaves, wakes the next while
 *       connections are still IDLE, so N returns serve N waiters, one after another, in queue order.
 *   <li><em>Hand-off</em>: a waiter that wakes having waited {@link #HANDOFF_AFTER_NANOS} or more raises a flag.
 *       The next returned connection then goes straight into the oldest waiter's slot, never becoming IDLE, and
 *       newcomers skip the fast path and queue while the flag is up (a queued waiter may still take a connection
 *       left IDLE by an earlier normal-mode return). The flag drops after that one hand-off, and
 *       the next waiter to cross the threshold raises it again. (Go stays in this mode until the queue drains;
 *       with OS threads that convoys: every borrow then costs a context switch and the queue never drains.)
 *       When the oldest waiter is a virtual thread every return is a hand-off: unparking one costs no OS
 *       context switch.
 * </ul>
 * So overtaking is bounded: once the oldest waiter has waited the threshold, the next return is its. HikariCP
 * lets newcomers overtake waiters without bound, which is where its multi-second p99.9 under contention comes
 * from.
 *
 * <p><b>Priority.</b> Waiters queue by priority, first come first served within one ({@link WaiterQueue}: CRITICAL,
 * then NORMAL, then BULK, with BULK aged into NORMAL's order after a second), and "oldest waiter" above means
 * the first in that order. While a CRITICAL caller waits, the bag is in hand-off mode for it: every returned
 * connection goes straight into the first waiter's slot (a CRITICAL one, unless it was cancelled meanwhile) and
 * running threads do not poll the array, so a critical caller waits for the next return, not behind running
 * threads (a waiter's own scan may still find a connection left IDLE before the critical caller arrived).
 * A lane's caller within its lane's minimum waits at the GUARANTEED rank, between CRITICAL and NORMAL, with the
 * same hand-off. CRITICAL and GUARANTEED callers are never turned away by maxWaiting (they are counted as
 * waiting, so they use up room NORMAL and BULK callers would have).
 *
 * <p><b>Unusable connections.</b> A waiter offers each connection it obtains to the pool's check (lifetime,
 * eviction, validation), which may retire it, or give it back when too little of the waiter's time is left to
 * validate it. The waiter leaves the queue before the check (so no returner hands it a second connection
 * meanwhile) and, if the connection is refused, goes back to the head of the queue: a dead connection never
 * pushes a waiter behind later arrivals (it may put it ahead of older waiters, which is rare and bounded by the
 * connections that fail). After a retirement the waiter looks again; after a give-back it parks (announced, so
 * returns can wake it) rather than scanning, so it cannot take the same connection and give it back in a loop.
 * If the check throws, the connection is given back before the exception leaves.
 *
 * <p><b>No lost wake-ups.</b> The race to close is "a borrower enqueues just after a returner looked at the
 * queue and found it empty". Both sides check twice, in opposite orders: the waiter announces that it will
 * park, then scans the array; the returner publishes IDLE, then looks at the queue again and, if someone
 * arrived, wakes or serves them. All the accesses involved are volatile, so at least one side sees the other.
 * A connection that goes IDLE wakes the oldest parked waiter, or finds an older one holding the outstanding
 * wake; a woken waiter scans before anything else, and when it leaves (with a connection, or without) it wakes
 * the next while connections are still IDLE, as does any waiter leaving without a connection. So the chain of
 * wakes goes on until the connections or the waiters run out; returns that arrive together are served one
 * scheduling latency after another. (Two narrow exceptions, both bounded by the time a waiter has left below
 * the pool's validation floor of 50 ms: a waiter that gave back a connection it had no time to validate parks
 * without scanning, and two such waiters may pass one stale connection back and forth until their deadlines.)
 *
 * <p><b>Virtual threads.</b> Waiting is {@link LockSupport#parkNanos}, never {@code synchronized} and never a
 * {@code Thread.yield()} spin, so a parked virtual thread releases its carrier. The only lock is the
 * {@link ReentrantLock} around array copies and size-checked removals, held for a few instructions; no user
 * code and no I/O run under it (the pool's check of an obtained connection runs outside it).
 *
 * <p><b>Timeouts and cancellation.</b> A waiter that times out (or is interrupted) CASes its slot to a
 * cancelled marker; if that CAS fails, a connection was handed over in the meantime and the waiter takes it
 * (through the same check as any other). Either way nothing is lost: a connection is always in exactly one
 * waiter's slot, IDLE in the array, or owned.
 */
final class ConnectionBag {

    /** How long a waiter may be overtaken before returns are handed to waiters in strict FIFO order. */
    static final long HANDOFF_AFTER_NANOS = 1_000_000L;

    private static final PoolEntry[] EMPTY = new PoolEntry[0];

    /** Returned by {@link #await} when maxWaiting callers are already waiting. */
    static final PoolEntry REJECTED = new PoolEntry(null, 0, 0);

    /** {@link #await} with NORMAL priority. */
    PoolEntry await(long deadlineNanos, int maxWaiting, Acceptor accept, Runnable onWaiting)
            throws InterruptedException {
        return await(deadlineNanos, maxWaiting, Priority.NORMAL, accept, onWaiting);
    }

    private volatile PoolEntry[] entries = EMPTY;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Ticker clock;
    private final WaiterQueue<Waiter> waiters;

    ConnectionBag() {
        this(Ticker.system());
    }

    /** @param clock the clock of waiters' arrival, for BULK aging ({@link WaiterQueue}) */
    ConnectionBag(Ticker clock) {
        this.clock = clock;
        this.waiters = new WaiterQueue<>(clock);
    }
    /** Raised before a waiter enqueues and lowered after it leaves: zero means the queue is empty. */
    private final AtomicInteger waiting = new AtomicInteger();
    /**
     * Per thread, a one-slot array holding a weak reference to the entry it returned last. Only JDK types sit in
     * the thread's map: a strong reference from it to a Ferry class would keep an application's class loader
     * alive after the pool closes (HikariCP's Tomcat leak test). The borrowed entry keeps the slot
     * ({@link PoolEntry#hintSlot}) so its return writes the hint with one plain store, and none when it is unchanged.
     */
    private final ThreadLocal<Object[]> lastReturned = new ThreadLocal<>();
    private volatile boolean handoff;
    private volatile boolean closed;

    /** Takes a free connection without waiting, or returns null. Never takes one in hand-off mode. */
    PoolEntry poll() {
        if (waiting.get() != 0 && (handoff || oldestIsVirtual() || waiters.handOffRankWaiting())) {
            return null;
        }
        Object[] slot = hintSlot();
        @SuppressWarnings("unchecked")
        java.lang.ref.WeakReference<PoolEntry> ref = (java.lang.ref.WeakReference<PoolEntry>) slot[0];
        PoolEntry hint = ref == null ? null : ref.get();
        if (hint != null && hint.compareAndSet(PoolEntry.IDLE, PoolEntry.IN_USE)) {
            hint.hintSlot = slot;
            return hint;
        }
        PoolEntry e = scan();
        if (e != null) {
            e.hintSlot = slot;
        }
        return e;
    }

    private Object[] hintSlot() {
        Object[] slot = lastReturned.get();
        if (slot == null) {
            slot = new Object[1];
            lastReturned.set(slot);
        }
        return slot;
    }

    /** Records where a waiter's entry should leave its hint when it is returned. */
    private PoolEntry owned(PoolEntry entry) {
        entry.hintSlot = hintSlot();
        return entry;
    }

    /**
     * Leaves the returned entry as its borrower's hint (a plain store: the slot is only a hint). Written only when
     * it changes, which a thread that borrows and returns in a loop rarely does: threads' slots are small arrays
     * the collector may place side by side, and a store on every return would make two cores pass their shared
     * cache line back and forth.
     */
    private static void hint(PoolEntry entry) {
        Object[] slot = entry.hintSlot;
        if (slot != null && slot[0] != entry.self) {
            slot[0] = entry.self;
        }
    }

    private PoolEntry scan() {
        for (PoolEntry e : entries) {
            if (e.state() == PoolEntry.IDLE && e.compareAndSet(PoolEntry.IDLE, PoolEntry.IN_USE)) {
                return e;
            }
        }
        return null;
    }

    /**
     * Decides whether a connection a waiter obtained may be lent before the waiter's deadline. It owns the entry
     * while it decides; when it answers false it has retired the entry or given it back (IDLE or to another
     * waiter). Called outside any lock of the bag's.
     */
    @FunctionalInterface
    interface Acceptor {
        boolean accept(PoolEntry entry, long deadlineNanos);
    }

    /**
     * Waits until {@code deadlineNanos} (System.nanoTime) for a connection, in FIFO order with other waiters.
     *
     * <p>The caller counts as waiting (see {@link #unserved()}) before {@code onWaiting} runs, so a pool that
     * decides from that count whether to open a connection sees this caller as demand. Each connection the
     * waiter obtains goes to {@code accept}; see the class notes for what happens when it is refused.
     *
     * @return the entry, now IN_USE and owned by the caller; null on timeout or when the bag closes; or
     *         {@link #REJECTED} if {@code maxWaiting} callers were already waiting
     * @throws InterruptedException if interrupted while waiting (the interrupt status is cleared)
     */
    PoolEntry await(long deadlineNanos, int maxWaiting, Priority priority, Acceptor accept, Runnable onWaiting)
            throws InterruptedException {
        java.util.Objects.requireNonNull(priority, "priority");
        return await(deadlineNanos, maxWaiting, WaiterQueue.rankOf(priority), accept, onWaiting);
    }

    /**
     * {@link #await} at a rank of {@link WaiterQueue}'s: a priority's, or GUARANTEED (a lane's caller within its
     * minimum), which is served after CRITICAL and before NORMAL, with CRITICAL's hand-off.
     */
    PoolEntry await(long deadlineNanos, int maxWaiting, int rank, Acceptor accept, Runnable onWaiting)
            throws InterruptedException {
        // CRITICAL and GUARANTEED callers are never turned away by maxWaiting: NORMAL ones filling the queue must
        // not lock them out.
        if (waiting.incrementAndGet() > maxWaiting && rank > WaiterQueue.GUARANTEED) {
            waiting.decrementAndGet();
            return REJECTED;
        }
        long start = System.nanoTime();
        long deadline = deadlineNanos;
        Waiter waiter = new Waiter(Thread.currentThread(), start, rank, clock.read());
        try {
            waiters.add(waiter);
        } catch (Throwable t) {
            waiting.decrementAndGet();
            throw t;
        }
        try {
            try {
                onWaiting.run();
            } catch (Throwable t) {
                leave(waiter);
                throw t;
            }
            boolean look = true; // scan the array before parking; false right after giving a connection back
            for (;;) {
                PoolEntry handed = waiter.entry();
                if (handed != null) {
                    // A returner took us off the head of the queue and handed this over: we own it.
                    if (acceptOrGiveBack(accept, handed, deadline)) {
                        if (waiter.woken) {
                            passWakeOn();
                        }
                        return owned(handed);
                    }
                    if (deadline - System.nanoTime() <= 0 || closed) {
                        passWakeOn(); // we are no longer queued: nothing to cancel
                        return null;
                    }
                    // Refused: wait on from the head of the queue, where we were.
                    waiter = waiter.renew();
                    waiters.offerFirst(waiter);
                    look = handed.state() == PoolEntry.REMOVED; // retired: look again; given back: no time to check
                    continue;
                }
                // Announce the park before scanning: a returner publishes IDLE and then looks at this flag, so
                // either our scan sees its connection or it sees the flag and unparks us. Scanning first and
                // setting the flag after would leave a window in which a connection sits idle while we sleep.
                waiter.parked.set(true);
                if (look) {
                    PoolEntry free = scan();
                    if (free != null) {
                        waiter.parked.set(false);
                        if (!waiter.cancel()) {
                            giveBack(free); // a returner handed us one while we found another: give one back
                            continue; // and check the handed one above
                        }
                        // Out of the queue (so no returner hands us a second one while we check this one).
                        if (acceptOrGiveBack(accept, free, deadline)) {
                            if (waiter.woken) {
                                passWakeOn(); // we took the one wake outstanding: hand it on if more are idle
                            }
                            return owned(free);
                        }
                        if (deadline - System.nanoTime() <= 0 || closed) {
                            passWakeOn();
                            return null;
                        }
                        // Refused: back to the head of the queue, where a dead connection cannot push us back.
                        waiters.remove(waiter);
                        waiter = waiter.renew();
                        waiters.offerFirst(waiter);
                        look = free.state() == PoolEntry.REMOVED;
                        continue; // re-announce the park (so returns can wake us) before anything else
                    }
                }
                look = true;
                long now = System.nanoTime();
                long waited = now - start;
                if (waited >= HANDOFF_AFTER_NANOS && !handoff) {
                    handoff = true;
                }
                long remaining = deadline - now;
                if (remaining <= 0 || closed) {
                    waiter.parked.set(false);
                    if (waiter.cancel()) {
                        passWakeOn(); // a wake spent on us as we left goes to the next waiter
                        return null;
                    }
                    continue; // handed a connection at the last moment: accept or give it back above
                }
                // Wake at the hand-off threshold even if nobody returns a connection, to raise the flag then.
                long park = waited < HANDOFF_AFTER_NANOS ? Math.min(remaining, HANDOFF_AFTER_NANOS - waited) : remaining;
                if (waiter.entry() == null) {
                    LockSupport.parkNanos(this, park);
                }
                waiter.parked.set(false);
                if (Thread.interrupted()) {
                    if (waiter.cancel()) {
                        passWakeOn();
                        throw new InterruptedException();
                    }
                    Thread.currentThread().interrupt(); // handed one meanwhile: keep it, keep the interrupt
                }
            }
        } finally {
            if (waiter.isCancelled()) {
                waiters.remove(waiter);
            }
            waiting.decrementAndGet();
        }
    }

    /** Runs the acceptor on an entry we own; if it throws, the entry goes back before the exception leaves. */
    private boolean acceptOrGiveBack(Acceptor accept, PoolEntry entry, long deadline) {
        try {
            return accept.accept(entry, deadline);
        } catch (Throwable t) {
            if (entry.state() != PoolEntry.REMOVED) { // the check may have retired it before it threw
                giveBack(entry);
            }
            throw t;
        }
    }

    /**
     * Gives back an entry a waiter will not use. A reserve connection goes only to a CRITICAL waiter; with none,
     * it is marked evicted, so whoever takes it next retires it instead of using it (the pool closes it).
     */
    private void giveBack(PoolEntry entry) {
        if (entry.reserve) {
            if (handToCritical(entry)) {
                return;
            }
            entry.evict("reserve connection given back");
        }
        requite(entry);
    }

    /** A waiter leaving abnormally: its slot is cancelled (or what was handed to it given back). */
    private void leave(Waiter waiter) {
        if (!waiter.cancel()) {
            giveBack(waiter.entry());
        }
        passWakeOn();
    }

    /**
     * A waiter leaving wakes the next one if connections are still IDLE: returns that came while it was on its
     * way did not wake anyone else. Called by every waiter that leaves without a connection, and by one that
     * leaves with a connection if it was woken (it held the outstanding wake); one that was never woken held no
     * wake, and returns meanwhile passed it over (see {@link #wakeOldest()}).
     */
    private void passWakeOn() {
        if (waiting.get() > 1 && hasIdle()) {
            wakeOldest();
        }
    }

    private boolean hasIdle() {
        for (PoolEntry e : entries) {
            if (e.state() == PoolEntry.IDLE) {
                return true;
            }
        }
        return false;
    }

    /** Waiters not yet handed a connection: the demand a pool must meet by opening connections. */
    int unserved() {
        int n = 0;
        for (Waiter w : waiters) {
            if (w.slot.get() == null) {
                n++;
            }
        }
        return n;
    }

    /**
     * Gives an IN_USE entry back: in hand-off mode into the oldest waiter's slot, otherwise to the array as IDLE,
     * waking the oldest waiter to come and take it. Also used for freshly made connections, which start IN_USE.
     */
    void requite(PoolEntry entry) {
        for (;;) {
            if (waiting.get() != 0) {
                if (handoff || oldestIsVirtual() || waiters.handOffRankWaiting()) {
                    Waiter next;
                    while ((next = waiters.poll()) != null) {
                        if (next.offer(entry)) {
                            // One hand-off per signal: the starving head is served, then running threads may
                            // take connections again until the next waiter crosses the threshold. Staying in
                            // hand-off mode instead (Go's rule) convoys OS threads: every borrow then waits for
                            // a context switch, and the queue never drains.
                            handoff = false;
                            LockSupport.unpark(next.thread);
                            return;
                        }
                    }
                    handoff = false;
                } else {
                    entry.setState(PoolEntry.IDLE);
                    hint(entry);
                    wakeOldest();
                    return;
                }
            }
            entry.setState(PoolEntry.IDLE);
            hint(entry);
            // A borrower may have queued between our look at the counter and the IDLE write; it scans after
            // queueing, but it may have scanned before the write. Look again.
            if (waiters.isEmpty() || !entry.compareAndSet(PoolEntry.IDLE, PoolEntry.IN_USE)) {
                return;
            }
        }
    }

    /**
     * Whether the oldest waiter is a virtual thread. Handing a connection to a parked virtual thread costs no OS
     * context switch (unpark schedules a continuation), so the reason for normal mode does not apply and virtual
     * waiters always get strict FIFO hand-off.
     */
    private boolean oldestIsVirtual() {
        Waiter head = waiters.peekHighest();
        return head != null && head.virtual;
    }

    /**
     * Unparks the oldest waiter still waiting for a connection, unless it has been woken and not yet run: one
     * wake outstanding at a time (each unpark of a platform thread is a system call, and waking one thread per
     * return convoys them). A woken waiter passes the wake on when it leaves while connections are still IDLE
     * ({@link #passWakeOn()}), so returns that arrive while it is on its way are not lost: they are served one
     * waiter after another.
     */
    private void wakeOldest() {
        Waiter head = waiters.peek();
        if (head != null && wakeOne(head) != NEXT) {
            return; // the usual case, without an iterator
        }
        for (Waiter w : waiters) {
            if (wakeOne(w) != NEXT) {
                return;
            }
        }
    }

    private static final int WOKEN = 0;
    private static final int HOLDS_WAKE = 1;
    private static final int NEXT = 2;

    /**
     * Tries to give this waiter the wake: WOKEN if it was parked and now is woken; HOLDS_WAKE if it was woken
     * earlier and has not left (it passes the wake on); NEXT if the wake must go to the next waiter: it was
     * handed a connection or cancelled, or it is running without having been woken (it may or may not take
     * the returned connection).
     */
    private static int wakeOne(Waiter w) {
        if (w.slot.get() != null) {
            return NEXT;
        }
        if (w.wake()) {
            LockSupport.unpark(w.thread);
            // Handed a connection just as the wake landed: it may have read its woken flag already.
            return w.slot.get() == null ? WOKEN : NEXT;
        }
        return w.woken ? HOLDS_WAKE : NEXT;
    }

    void add(PoolEntry entry) {
        writeLock.lock();
        try {
            PoolEntry[] current = entries;
            PoolEntry[] next = Arrays.copyOf(current, current.length + 1);
            next[current.length] = entry;
            entries = next;
        } finally {
            writeLock.unlock();
        }
    }

    /** Removes an entry the caller owns (IN_USE or RESERVED) and marks it REMOVED. */
    boolean remove(PoolEntry entry) {
        writeLock.lock();
        try {
            PoolEntry[] current = entries;
            for (int i = 0; i < current.length; i++) {
                if (current[i] == entry) {
                    PoolEntry[] next = new PoolEntry[current.length - 1];
                    System.arraycopy(current, 0, next, 0, i);
                    System.arraycopy(current, i + 1, next, i, current.length - i - 1);
                    entries = next;
                    entry.setState(PoolEntry.REMOVED);
                    return true;
                }
            }
            return false;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Removes an entry the caller owns only while the bag holds more than {@code max} entries, deciding under
     * the write lock, so that several returners finding the pool over its size retire only the excess.
     */
    boolean removeIfOver(PoolEntry entry, int max) {
        writeLock.lock();
        try {
            return entries.length > max && remove(entry);
        } finally {
            writeLock.unlock();
        }
    }

    /** Claims an idle entry for housekeeping. */
    boolean reserve(PoolEntry entry) {
        return entry.compareAndSet(PoolEntry.IDLE, PoolEntry.RESERVED);
    }

    /** Returns a reserved entry to service, to a waiter first. */
    void unreserve(PoolEntry entry) {
        if (entry.compareAndSet(PoolEntry.RESERVED, PoolEntry.IN_USE)) {
            requite(entry);
        }
    }

    /** A snapshot of all entries, in any state. */
    PoolEntry[] snapshot() {
        return entries;
    }

    int size() {
        return entries.length;
    }

    int count(int state) {
        int n = 0;
        for (PoolEntry e : entries) {
            if (e.state() == state) {
                n++;
            }
        }
        return n;
    }

    int waiting() {
        return waiting.get();
    }

    /** How long the longest-waiting caller has waited, by the bag's clock; 0 if nobody waits. */
    long oldestWaitNanos(long now) {
        long oldest = 0;
        for (Waiter w : waiters) {
            oldest = Math.max(oldest, now - w.arrivedAt);
        }
        return oldest;
    }

    /**
     * Hands an IN_USE entry to the first CRITICAL waiter (a reserve connection, which no other caller may have).
     *
     * @return false if no CRITICAL caller waits; the caller still owns the entry then
     */
    boolean handToCritical(PoolEntry entry) {
        Waiter next;
        while ((next = waiters.pollCritical()) != null) {
            if (next.offer(entry)) {
                LockSupport.unpark(next.thread);
                return true;
            }
        }
        return false;
    }

    /** Fails current and future waits at once; lending of what is idle is up to the pool. */
    void close() {
        closed = true;
        for (Waiter w : waiters) {
            LockSupport.unpark(w.thread);
        }
    }

    /** A parked borrower; its slot goes from empty to a connection (handed over) or to cancelled, once. */
    private static final class Waiter implements WaiterQueue.Ranked {
        private static final PoolEntry CANCELLED = new PoolEntry(null, 0, 0);

        final Thread thread;
        final boolean virtual;
        final long since;
        final int rank;
        final long arrivedAt;
        /** Set by the waiter before it parks; cleared by the one returner that wakes it. */
        private final AtomicBoolean parked = new AtomicBoolean();
        private final AtomicReference<PoolEntry> slot = new AtomicReference<>();

        Waiter(Thread thread, long since, int rank, long arrivedAt) {
            this.thread = thread;
            this.virtual = VirtualThreadCheck.isVirtual(thread);
            this.since = since;
            this.rank = rank;
            this.arrivedAt = arrivedAt;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public long arrivedAt() {
            return arrivedAt;
        }

        /** A fresh slot for the same caller, which keeps its arrival time, priority and any wake it holds. */
        Waiter renew() {
            Waiter w = new Waiter(thread, since, rank, arrivedAt);
            w.woken = woken;
            return w;
        }

        /** Set by the returner that woke this waiter: it holds the one outstanding wake until it leaves. */
        volatile boolean woken;

        /** Claims the right to unpark this waiter; false if it is awake or someone already woke it. */
        boolean wake() {
            if (parked.get() && parked.compareAndSet(true, false)) {
                woken = true;
                return true;
            }
            return false;
        }

        boolean offer(PoolEntry entry) {
            return slot.compareAndSet(null, entry);
        }

        boolean cancel() {
            return slot.compareAndSet(null, CANCELLED);
        }

        boolean isCancelled() {
            return slot.get() == CANCELLED;
        }

        PoolEntry entry() {
            PoolEntry e = slot.get();
            return e == CANCELLED ? null : e;
        }
    }
}
