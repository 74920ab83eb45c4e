package dev.ferry.capacity;

import dev.ferry.Priority;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;

/**
 * Shares one pool's connections among named lanes: each lane has a guaranteed minimum, a cap, and a weight for
 * what lies above the minimums. Engine class behind {@code FerryDataSource.lane(name)}; not for direct use.
 *
 * <h2>Design notes</h2>
 *
 * <p><b>Admission.</b> A borrower in a lane is admitted to it before it borrows, and leaves it when it returns
 * the connection, or at once if it got none. The pool marks each connection it lends with the borrower's lane,
 * so a lane's connections are counted from the pool's connections ({@code lent}), not by a counter on the
 * borrow path. Callers that name no lane use the {@link Lane#MAIN} lane, which exists in every lane setup
 * (minimum 0, cap unlimited, weight 1, unless configured). CRITICAL callers are not admitted to any lane: they
 * are served ahead of lane callers by the pool (and may use its reserve), so lanes never hold them back.
 *
 * <p><b>Caps.</b> A lane whose cap is at or above the pool's budget (maximumPoolSize, lowered by a server-aware
 * cap; read at each admission) cannot bind before the budget does: its callers are admitted at once, with no
 * count and no lock, and wait, if they must, in the pool's queue, where running threads keep the pool's
 * throughput (see {@code ConnectionBag}). A lane whose cap is below the budget admits under the lane's lock while
 * its occupancy (its connections lent, counted from the pool's connections, plus capped admissions not yet lent,
 * counted exactly) is below the cap; others wait at the cap, first come first served, within their timeout, and
 * each caller leaving the lane signals the first of them. Since lent connections are counted however their
 * callers were admitted, a cap that starts to bind (the budget grew, or the cap was lowered) counts them; they
 * keep their connections, and new callers wait until the lane is below its cap. Callers admitted before the cap
 * bound and still waiting in the pool are not counted, and get their connections too, so for a while the lane
 * may hold more than its cap by that many. A waiter at the cap also looks
 * again every 50 ms, so a cap that stops binding because the server-aware cap moved frees it without a signal.
 *
 * <p><b>Minimums and shares: the rank a lane's caller waits at.</b> Lanes do not queue callers for the budget;
 * the pool does, by priority, and a lane sets the rank its caller waits at ({@link #rank}), decided when the
 * caller must wait, from each lane's demand (lent, plus waiting in the pool, plus capped admissions on their
 * way). While no other lane has demand, that is the caller's own priority: there is no one to take from or yield
 * to, and the caller is not counted as waiting (so a lane alone in the pool pays for no count). Whether another
 * lane has demand is looked up at most once a millisecond per lane (it scans the pool's connections, which
 * other threads are writing), so a lane that starts to want connections is seen within a millisecond. Callers waiting
 * from before another lane's demand began are not counted then, so a lane's demand may read low by those. Otherwise, a caller whose lane's demand is below its {@code minimum} waits at the GUARANTEED rank: the
 * pool hands it the next connection returned anywhere, ahead of every other non-CRITICAL caller, and running
 * threads do not take connections meanwhile (except one left idle by a return that raced the waiter joining the
 * queue, which a newcomer's own scan may find, as {@code ConnectionBag} says). So when a lane needs its minimum, borrowed capacity goes back to it
 * at the next return, never after another lane's borrowing; a lent connection is never taken from a borrower.
 * (Such a caller is not CRITICAL: it is never handed an emergency reserve connection and may be shed like any
 * NORMAL caller; like a CRITICAL one, it is not turned away by maxWaiting.) The demand is a moment's view, read
 * without a lock, so callers of a lane arriving together may all see room under its minimum: the rank may go to
 * a few more than {@code minimum} callers. A caller whose lane's demand, itself included, is above its weighted
 * share of the budget ({@code budget * weight / sum of the weights of lanes with demand}) waits at BULK rank
 * (aged after a second, so none starves); others at their own priority's. Ranks are kept while the caller
 * waits, so shares are approximate under shifting load: two busy lanes with weights 3 and 1 settle near three
 * to one.
 *
 * <p><b>Cost.</b> Admission to a lane without a binding cap is a comparison; to a capped lane, a count of the
 * pool's connections and an atomic add under the lane's lock. The rank is computed only for callers that must
 * wait. Locks ({@link ReentrantLock}s: nothing is synchronized) are taken by capped admissions, by a caller
 * leaving a lane that has waiters at its cap (to signal one), by {@link #rebalance}, {@link #close} and
 * {@link #reconfigure}; nothing blocks under one but the wait at a cap ({@link Condition#awaitNanos}, which
 * releases it). A lane's mark on a connection is a plain field: a reader on another thread may see it late,
 * which can cost a waiter at a cap a missed signal, bounded by its 50 ms re-check.
 */
public final class LaneBudget {

    private final Map<String, Slot> lanes = new LinkedHashMap<>();
    private final Slot[] order;
    /** Whether the main lane was added (not configured): its cap is unlimited, and checks skip it. */
    private final boolean implicitMain;
    private final IntSupplier budget;
    private final Lending lent;
    private volatile boolean closed;
    /** Serialises {@link #reconfigure}. */
    private final ReentrantLock configLock = new ReentrantLock();

    /**
     * @param configured the lanes; a {@link Lane#MAIN} lane is added if absent
     * @param budget     the pool's budget now
     * @param lent       what the pool's connections say of the lanes (a moment's view)
     */
    public LaneBudget(List<Lane> configured, IntSupplier budget, Lending lent) {
        this.budget = budget;
        this.lent = lent;
        for (Lane lane : configured) {
            lanes.put(lane.name(), new Slot(lane, lanes.size()));
        }
        implicitMain = !lanes.containsKey(Lane.MAIN);
        if (implicitMain) {
            lanes.put(Lane.MAIN, new Slot(new Lane(Lane.MAIN, 0, Integer.MAX_VALUE, 1), lanes.size()));
        }
        this.order = lanes.values().toArray(new Slot[0]);
    }

    private static final long CAP_RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /** Checks lanes against a budget: unique names, caps within it, and minimums that fit. */
    public static void validate(List<Lane> lanes, int maximumPoolSize) {
        validate(lanes, maximumPoolSize, maximumPoolSize);
    }

    /** Caps checked against {@code capLimit}, minimums against {@code maximumPoolSize}. */
    private static void validate(List<Lane> lanes, int capLimit, int maximumPoolSize) {
        int minimums = 0;
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Lane lane : lanes) {
            if (!names.add(lane.name())) {
                throw new IllegalArgumentException("lane " + lane.name() + ": got it twice; allowed: one lane per name");
            }
            if (lane.cap() > capLimit) {
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

    /**
     * Checks the configured lanes' minimums against a new maximumPoolSize (being changed). Caps above it are
     * allowed there: they stop binding.
     */
    public void checkBudget(int maximumPoolSize) {
        validate(configured(null), Integer.MAX_VALUE, maximumPoolSize);
    }

    /** Every lane's settings (the main lane included, configured or not), one of them replaced. */
    private List<Lane> configured(Lane replacing) {
        List<Lane> all = new ArrayList<>();
        for (Slot s : order) {
            all.add(replacing != null && s.name().equals(replacing.name()) ? replacing : s.config);
        }
        return all;
    }

    /** The lane of this name (null: main), or an exception naming the lanes there are. */
    public Slot lane(String name) {
        Slot slot = lanes.get(name == null ? Lane.MAIN : name);
        if (slot == null) {
            throw new IllegalArgumentException("lane: got '" + name + "'; allowed: " + lanes.keySet());
        }
        return slot;
    }

    /**
     * Admits a caller to {@code lane} if it need not wait at a cap (no clock read).
     *
     * @return {@link #FREE} (no binding cap: nothing to give back but the lane), {@link #CAPPED} (counted as
     *         pending until {@link #lent} or {@link #leave}), or {@link #WAIT} if it must wait
     */
    public int tryAdmit(Slot lane) {
        if (lane.config.cap() >= budget.getAsInt()) {
            return FREE;
        }
        lane.lock.lock();
        try {
            if (lane.atCap == 0 && occupancy(lane) < lane.config.cap()) {
                lane.pending.incrementAndGet();
                return CAPPED;
            }
            return WAIT;
        } finally {
            lane.lock.unlock();
        }
    }

    /** Whether {@code slot} is one of these lanes (not another pool's). */
    public boolean owns(Slot slot) {
        return slot != null && slot.index < order.length && order[slot.index] == slot;
    }

    public static final int WAIT = 0;
    public static final int FREE = 1;
    public static final int CAPPED = 2;

    /** Callers of a lane holding a connection or admitted on their way to one. */
    private int occupancy(Slot lane) {
        // Pending first: a borrower marks its connection before it stops counting as pending, so reading in this
        // order may count it twice (safe), never not at all.
        int pending = lane.pending.get();
        return pending + lent.lentIn(lane.index);
    }

    /**
     * Admits a caller to {@code lane}, waiting at its cap for {@code timeoutNanos} at most.
     *
     * @return as {@link #tryAdmit}, {@link #WAIT} meaning timed out
     * @throws InterruptedException if interrupted while waiting at the cap (not admitted then)
     */
    public int admit(Slot lane, long timeoutNanos) throws InterruptedException {
        int now = tryAdmit(lane);
        if (now != WAIT) {
            return now;
        }
        long deadline = System.nanoTime() + timeoutNanos;
        lane.lock.lock();
        try {
            lane.atCap++;
            try {
                for (;;) {
                    if (closed) {
                        return WAIT;
                    }
                    if (lane.config.cap() >= budget.getAsInt()) {
                        return FREE;
                    }
                    if (occupancy(lane) < lane.config.cap()) {
                        lane.pending.incrementAndGet();
                        return CAPPED;
                    }
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0) {
                        return WAIT;
                    }
                    lane.room.awaitNanos(Math.min(remaining, CAP_RECHECK_NANOS));
                }
            } finally {
                lane.atCap--;
                if (lane.atCap > 0 && occupancy(lane) < lane.config.cap()) {
                    lane.room.signal(); // room left (we timed out, or more left): the next one looks
                }
            }
        } finally {
            lane.lock.unlock();
        }
    }

    /**
     * A capped admission's connection is lent (the pool has marked it with the lane): it now counts as lent,
     * not pending.
     */
    public void lent(Slot lane, int admission) {
        if (admission == CAPPED) {
            lane.pending.decrementAndGet();
        }
    }

    /**
     * A caller leaves its lane: its connection is back (unmarked), or it got none ({@code admission} is then
     * what it was admitted with, and a capped one stops counting as pending).
     */
    public void leave(Slot lane, int admission) {
        if (admission == CAPPED) {
            lane.pending.decrementAndGet();
        }
        if (lane.atCap > 0) { // volatile read: a waiter counted itself under the lock before it awaited
            lane.lock.lock();
            try {
                lane.room.signal();
            } finally {
                lane.lock.unlock();
            }
        }
    }

    /** A caller of {@code lane} starts waiting in the pool (demand, for ranks); {@link #served} when it stops. */
    public void waiting(Slot lane) {
        lane.queued.increment();
    }

    public void served(Slot lane) {
        lane.queued.decrement();
    }

    /** How many lanes there are (the main lane included). */
    public int size() {
        return order.length;
    }

    /**
     * The rank a caller of {@code lane} about to wait in the pool waits at (see the class notes): null when no
     * other lane wants connections (then its own priority's, and it need not be counted as waiting); else
     * GUARANTEED within the lane's minimum, BULK above its weighted share, its own priority's otherwise (then the
     * caller is counted as waiting, {@link #waiting}, while it waits).
     *
     * @param nanoTime System.nanoTime() now (the caller has read it already)
     */
    public Rank rank(Slot lane, Priority own, long nanoTime) {
        Rank ownRank = own == Priority.BULK ? Rank.BULK : Rank.NORMAL;
        if (!othersWantRecently(lane, nanoTime)) {
            return null; // nobody to take from or yield to (the usual case)
        }
        long before = demand(lane);
        long weights = lane.config.weight();
        boolean others = false;
        for (Slot s : order) {
            if (s != lane && demand(s) > 0) {
                weights += s.config.weight();
                others = true;
            }
        }
        if (!others) {
            return ownRank; // nobody to take from or yield to
        }
        Lane c = lane.config;
        if (before < c.minimum()) {
            return Rank.GUARANTEED;
        }
        boolean aboveShare = (before + 1) * weights > (long) budget.getAsInt() * c.weight();
        return aboveShare ? Rank.BULK : ownRank;
    }

    /**
     * {@link #othersWant}, re-read at most every {@link #OTHERS_RECHECK_NANOS} per lane: the scan reads
     * connections other threads are writing, and a lane alone in a busy pool would pay it on every wait.
     */
    private boolean othersWantRecently(Slot lane, long now) {
        if (now - lane.othersCheckedAt < OTHERS_RECHECK_NANOS) {
            return lane.othersWanted;
        }
        boolean want = othersWant(lane);
        lane.othersWanted = want;
        lane.othersCheckedAt = now;
        return want;
    }

    private static final long OTHERS_RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private boolean othersWant(Slot lane) {
        for (Slot s : order) {
            if (s != lane && (s.queued.sum() > 0 || s.pending.get() > 0)) {
                return true;
            }
        }
        return lent.lentOutside(lane);
    }

    /** What the pool's connections say of the lanes: it marks each lent connection with its borrower's lane. */
    public interface Lending {
        /** Connections lent now to callers of the lane at this index. */
        int lentIn(int laneIndex);

        /** Whether any connection is lent now to a caller of another lane than this one. */
        boolean lentOutside(Slot lane);
    }

    /** Lent, waiting in the pool, or admitted on the way: a lane's demand, as far as the counts can tell. */
    private long demand(Slot s) {
        long pending = s.pending.get(); // first: see occupancy()
        return pending + lent.lentIn(s.index) + s.queued.sum();
    }

    /** The rank a caller waits at in the pool: a priority, plus the guaranteed rank of a lane's minimum. */
    public enum Rank {
        /** A lane's caller within its minimum: after CRITICAL callers, before everyone else. */
        GUARANTEED,
        NORMAL,
        BULK
    }

    /** Fails the waits at the caps (the pool is closing). */
    public void close() {
        closed = true;
        rebalance();
    }

    /** Lets waiters at the caps look again (the budget changed). */
    public void rebalance() {
        for (Slot s : order) {
            s.lock.lock();
            try {
                s.room.signalAll();
            } finally {
                s.lock.unlock();
            }
        }
    }

    /** Changes a lane's minimum, cap and weight; the minimums must still fit the budget. */
    public void reconfigure(Lane changed, int maximumPoolSize) {
        configLock.lock();
        try {
            reconfigureLocked(changed, maximumPoolSize);
        } finally {
            configLock.unlock();
        }
        rebalance();
    }

    private void reconfigureLocked(Lane changed, int maximumPoolSize) {
        Slot slot = lane(changed.name());
        if (changed.cap() > maximumPoolSize && !(implicitMain && changed.name().equals(Lane.MAIN))) {
            throw new IllegalArgumentException("lane " + changed + ": got cap " + changed.cap()
                    + " with maximumPoolSize " + maximumPoolSize + "; allowed: a cap of 1 to maximumPoolSize");
        }
        validate(configured(changed), Integer.MAX_VALUE, maximumPoolSize);
        slot.config = changed;
    }

    /**
     * Each lane's settings and use now, in configured order.
     *
     * @param lent connections lent now per lane, by {@link Slot#index()}
     */
    public List<LaneState> state(int[] lent) {
        List<LaneState> out = new ArrayList<>();
        for (Slot s : order) {
            out.add(new LaneState(s.config, lent[s.index], (int) s.queued.sum(), s.atCap));
        }
        return out;
    }

    /** One lane's count and cap queue. */
    public static final class Slot {
        volatile Lane config;
        final int index;
        /** Capped admissions not yet lent (counted exactly: a cap is checked against it). */
        final AtomicInteger pending = new AtomicInteger();
        /** Callers waiting in the pool (counted on the waiting path only; striped: many wait at once). */
        final LongAdder queued = new LongAdder();
        final ReentrantLock lock = new ReentrantLock(true);
        final Condition room = lock.newCondition();
        /** Callers waiting at the cap (written under the lock). */
        volatile int atCap;
        /** Whether another lane wanted connections when last looked ({@link #othersWantRecently}), and when. */
        volatile boolean othersWanted;
        volatile long othersCheckedAt = System.nanoTime() - OTHERS_RECHECK_NANOS;

        Slot(Lane config, int index) {
            this.config = config;
            this.index = index;
        }

        public String name() {
            return config.name();
        }

        /** Its position in the lanes' order: the index of its count in lent-by-lane arrays. */
        public int index() {
            return index;
        }
    }

    /**
     * A lane's settings and use at one moment.
     *
     * @param lent         connections lent to the lane's callers
     * @param waiting      its callers admitted and waiting in the pool for a connection (a moment's view)
     * @param waitingAtCap its callers waiting for the lane's cap
     */
    public record LaneState(Lane lane, int lent, int waiting, int waitingAtCap) {
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
