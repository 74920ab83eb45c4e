package dev.ferry.capacity;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;

/**
 * Shares one pool's connections among named lanes: each lane has a guaranteed minimum, a cap, and a weight for
 * what lies above the minimums. Engine class behind {@code FerryDataSource.lane(name)}; not for direct use.
 *
 * <h2>Design notes</h2>
 *
 * <p><b>Permits.</b> A borrower through a lane first takes one of the lane's permits, then a connection from the
 * pool, and gives the permit back when it returns the connection. Permits in use never exceed the pool's
 * budget ({@code budget}, read at each decision: maximumPoolSize, lowered by a server-aware cap), and a lane's
 * never exceed its cap. So every permit holder can be served by the pool: lanes decide who goes next, the pool
 * lends. Callers that name no lane use the {@link Lane#MAIN} lane, which exists in every lane setup (minimum 0,
 * cap the budget, weight 1, unless configured); so every borrower holds a permit, and the minimums hold.
 * CRITICAL callers take no permit: they are served ahead of everyone by the pool (and may use its reserve), so
 * lanes never hold them back; while one is out, a permit holder may wait in the pool for a return.
 *
 * <p><b>Work-conserving, minimums first.</b> A lane takes a free permit whenever it is below its cap and nobody
 * waits: capacity another lane is not using is borrowed, not left idle. When permits run out, callers queue per
 * lane, first come first served within a lane. Each permit given back goes, in this order:
 * <ol>
 *   <li>to a lane below its minimum that has callers waiting (the one furthest below, relative to its minimum):
 *       so borrowed capacity goes back to its owner at the next return, before anyone else is served;
 *   <li>otherwise to the waiting lane, below its cap, with the fewest permits per unit of weight (weighted fair
 *       share of what lies above the minimums: with weights 3 and 1, two busy lanes settle at three to one);
 * </ol>
 * ties to the lane configured first. A lane's minimum is guaranteed in this sense: when it needs a connection it
 * waits for the next one returned anywhere, never behind another lane's borrowing. Lent connections are never
 * taken back from a borrower. Newcomers do not overtake: while anyone waits, a newcomer queues and the same
 * order decides.
 *
 * <p><b>Concurrency.</b> The fast path (nobody waiting) is two compare-and-sets (the lane's count under its cap,
 * then the total under the budget; the first is undone if the second fails) and no lock. Queues and the choice
 * of the next lane are under one {@link ReentrantLock}, held for a few instructions: no I/O, no user code, no
 * parking under it; granted waiters are unparked after it is released. No lost wake-up: a releaser lowers the
 * counts and then reads the number of waiters; a caller joining the queue raises that number and then, under
 * the lock, hands out whatever is free (to the best lane, itself if it is that). All of these are volatile or
 * atomic, so at least one of the two sees the other. A waiter that times out or is interrupted cancels its
 * slot by compare-and-set; if a permit was granted first, it keeps it and goes on to borrow.
 */
public final class LaneBudget {

    private static final int WAITING = 0;
    private static final int GRANTED = 1;
    private static final int CANCELLED = 2;

    private final Map<String, Slot> lanes = new LinkedHashMap<>();
    private final Slot[] order;
    /** Whether the main lane was added (not configured): its cap follows the budget, and checks skip it. */
    private final boolean implicitMain;
    private final IntSupplier budget;
    private final AtomicInteger total = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger();
    private final ReentrantLock lock = new ReentrantLock();
    private volatile boolean closed;

    /**
     * @param configured the lanes, in the order ties are broken; a {@link Lane#MAIN} lane is added if absent
     * @param budget     the pool's budget now
     */
    public LaneBudget(List<Lane> configured, IntSupplier budget) {
        this.budget = budget;
        for (Lane lane : configured) {
            lanes.put(lane.name(), new Slot(lane));
        }
        implicitMain = !lanes.containsKey(Lane.MAIN);
        if (implicitMain) {
            lanes.put(Lane.MAIN, new Slot(new Lane(Lane.MAIN, 0, Integer.MAX_VALUE, 1))); // capped by the budget
        }
        this.order = lanes.values().toArray(new Slot[0]);
    }

    /** Checks lanes against a budget: unique names, and minimums that fit. */
    public static void validate(List<Lane> lanes, int maximumPoolSize) {
        int minimums = 0;
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Lane lane : lanes) {
            if (!names.add(lane.name())) {
                throw new IllegalArgumentException("lane " + lane.name() + ": got it twice; allowed: one lane per name");
            }
            if (lane.cap() > maximumPoolSize) {
                throw new IllegalArgumentException("lane " + lane + ": got cap " + lane.cap() + " with maximumPoolSize "
                        + maximumPoolSize + "; allowed: a cap of 1 to maximumPoolSize");
            }
            minimums += lane.minimum();
        }
        if (minimums > maximumPoolSize) {
            throw new IllegalArgumentException("lanes " + lanes + ": got minimums adding up to " + minimums
                    + " with maximumPoolSize " + maximumPoolSize + "; allowed: minimums that add up to at most "
                    + "maximumPoolSize (they are guaranteed out of it)");
        }
    }

    /** The lane of this name, or an exception naming the lanes there are. */
    public Slot lane(String name) {
        Slot slot = lanes.get(name == null ? Lane.MAIN : name);
        if (slot == null) {
            throw new IllegalArgumentException("lane: got '" + name + "'; allowed: " + lanes.keySet());
        }
        return slot;
    }

    /** Takes a permit of {@code lane} if one is free and nobody waits (the fast path: no lock, no clock). */
    public boolean tryAcquire(Slot lane) {
        return waiting.get() == 0 && tryTake(lane);
    }

    /** Checks every configured lane against a new budget (the pool's maximumPoolSize, being changed). */
    public void checkBudget(int maximumPoolSize) {
        List<Lane> all = new ArrayList<>();
        for (Slot s : order) {
            if (!(implicitMain && s.name().equals(Lane.MAIN))) {
                all.add(s.config);
            }
        }
        validate(all, maximumPoolSize);
    }

    /**
     * Takes a permit of {@code lane}, waiting until {@code deadlineNanos} (System.nanoTime) at most.
     *
     * @return true with a permit (give it back with {@link #release}); false on timeout or when closed
     * @throws InterruptedException if interrupted while waiting (no permit is held then)
     */
    public boolean acquire(Slot lane, long deadlineNanos) throws InterruptedException {
        if (tryAcquire(lane)) {
            return true;
        }
        Waiter w = new Waiter(Thread.currentThread());
        List<Waiter> granted;
        lock.lock();
        try {
            lane.queue.addLast(w);
            waiting.incrementAndGet();
            granted = dispatch();
        } finally {
            lock.unlock();
        }
        unpark(granted);
        for (;;) {
            if (w.state.get() == GRANTED) {
                return true;
            }
            long remaining = deadlineNanos - System.nanoTime();
            if (remaining <= 0 || closed) {
                if (cancel(lane, w)) {
                    return false;
                }
                continue; // granted meanwhile: keep it
            }
            LockSupport.parkNanos(this, remaining);
            if (Thread.interrupted()) {
                if (cancel(lane, w)) {
                    throw new InterruptedException();
                }
                Thread.currentThread().interrupt(); // granted meanwhile: keep the permit and the interrupt
            }
        }
    }

    /** Gives a permit of {@code lane} back; the next waiter in the order of the class notes gets it. */
    public void release(Slot lane) {
        lane.held.decrementAndGet();
        total.decrementAndGet();
        if (waiting.get() != 0) {
            List<Waiter> granted;
            lock.lock();
            try {
                granted = dispatch();
            } finally {
                lock.unlock();
            }
            unpark(granted);
        }
    }

    /** Hands out free permits to waiters after a change of budget, caps or minimums. */
    public void rebalance() {
        List<Waiter> granted;
        lock.lock();
        try {
            granted = dispatch();
        } finally {
            lock.unlock();
        }
        unpark(granted);
    }

    /** Changes a lane's minimum, cap and weight; the minimums must still fit the budget. */
    public void reconfigure(Lane changed, int maximumPoolSize) {
        lock.lock();
        try {
            Slot slot = lane(changed.name());
            List<Lane> all = new ArrayList<>();
            for (Slot s : order) {
                if (!(implicitMain && s.name().equals(Lane.MAIN)) || s == slot) {
                    all.add(s == slot ? changed : s.config);
                }
            }
            validate(all, maximumPoolSize);
            slot.config = changed;
        } finally {
            lock.unlock();
        }
        rebalance();
    }

    /** Fails waiting and future acquires. */
    public void close() {
        closed = true;
        lock.lock();
        try {
            for (Slot s : order) {
                for (Waiter w : s.queue) {
                    LockSupport.unpark(w.thread);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Each lane's settings and use now, in configured order. */
    public List<LaneState> state() {
        List<LaneState> out = new ArrayList<>();
        lock.lock();
        try {
            for (Slot s : order) {
                out.add(new LaneState(s.config, s.held.get(), s.queue.size()));
            }
        } finally {
            lock.unlock();
        }
        return out;
    }

    /** Permits in use, all lanes. */
    public int inUse() {
        return total.get();
    }

    private boolean tryTake(Slot lane) {
        if (closed) {
            return false;
        }
        for (;;) {
            int held = lane.held.get();
            if (held >= lane.config.cap()) {
                return false;
            }
            if (lane.held.compareAndSet(held, held + 1)) {
                break;
            }
        }
        int max = budget.getAsInt();
        for (;;) {
            int t = total.get();
            if (t >= max) {
                lane.held.decrementAndGet();
                return false;
            }
            if (total.compareAndSet(t, t + 1)) {
                return true;
            }
        }
    }

    /** Under the lock: grants free permits to the heads of the best lanes; returns whom to unpark. */
    private List<Waiter> dispatch() {
        List<Waiter> granted = null;
        for (;;) {
            Slot best = null;
            for (Slot s : order) {
                dropCancelled(s);
                if (s.queue.isEmpty() || s.held.get() >= s.config.cap()) {
                    continue;
                }
                if (best == null || s.before(best)) {
                    best = s;
                }
            }
            if (best == null) {
                return granted == null ? List.of() : granted;
            }
            if (!tryTake(best)) {
                if (closed || total.get() >= budget.getAsInt()) {
                    return granted == null ? List.of() : granted;
                }
                continue; // a fast-path taker filled this lane meanwhile: look again
            }
            Waiter w = best.queue.pollFirst();
            waiting.decrementAndGet();
            if (!w.state.compareAndSet(WAITING, GRANTED)) {
                // cancelled after dropCancelled looked: hand the permit on
                best.held.decrementAndGet();
                total.decrementAndGet();
                continue;
            }
            if (granted == null) {
                granted = new ArrayList<>();
            }
            granted.add(w);
        }
    }

    private void dropCancelled(Slot s) {
        while (!s.queue.isEmpty() && s.queue.peekFirst().state.get() == CANCELLED) {
            s.queue.pollFirst();
            waiting.decrementAndGet();
        }
    }

    /** Cancels a waiter's slot; false if it was granted a permit first. */
    private boolean cancel(Slot lane, Waiter w) {
        if (!w.state.compareAndSet(WAITING, CANCELLED)) {
            return false;
        }
        lock.lock();
        try {
            if (lane.queue.remove(w)) {
                waiting.decrementAndGet();
            }
        } finally {
            lock.unlock();
        }
        return true;
    }

    private static void unpark(List<Waiter> granted) {
        for (Waiter w : granted) {
            LockSupport.unpark(w.thread);
        }
    }

    /** One lane's counts and queue. */
    public static final class Slot {
        volatile Lane config;
        final AtomicInteger held = new AtomicInteger();
        final ArrayDeque<Waiter> queue = new ArrayDeque<>();

        Slot(Lane config) {
            this.config = config;
        }

        public String name() {
            return config.name();
        }

        /** Whether this lane goes before {@code other} for the next permit (see the class notes). */
        boolean before(Slot other) {
            Lane a = config;
            Lane b = other.config;
            int heldA = held.get();
            int heldB = other.held.get();
            boolean belowA = heldA < a.minimum();
            boolean belowB = heldB < b.minimum();
            if (belowA != belowB) {
                return belowA;
            }
            if (belowA) { // both below their minimum: the one furthest below, relative to it
                return (long) heldA * b.minimum() < (long) heldB * a.minimum();
            }
            return (long) heldA * b.weight() < (long) heldB * a.weight(); // fewest permits per unit of weight
        }
    }

    /** A lane's settings and use at one moment. */
    public record LaneState(Lane lane, int inUse, int waiting) {
    }

    private static final class Waiter {
        final Thread thread;
        final AtomicInteger state = new AtomicInteger(WAITING);

        Waiter(Thread thread) {
            this.thread = thread;
        }
    }

    /** For log lines: the lanes and their settings. */
    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        for (Slot s : order) {
            parts.add(s.config.toString());
        }
        return "lanes" + parts;
    }
}
