package dev.ferry.capacity;

import dev.ferry.Priority;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;

/**
 * Shares one pool's connections among named lanes: each lane has a guaranteed minimum, a cap, and a weight for
 * what lies above the minimums. Engine class behind {@code FerryDataSource.lane(name)}; not for direct use.
 *
 * <h2>Design notes</h2>
 *
 * <p><b>Admission.</b> A borrower in a lane is admitted to it before it borrows (counted in the lane's
 * {@code admitted}: callers lent a connection or waiting in the pool for one), and leaves it when it returns the
 * connection, or at once if it got none. Callers that name no lane use the {@link Lane#MAIN} lane, which exists
 * in every lane setup (minimum 0, cap unlimited, weight 1, unless configured). CRITICAL callers are not admitted
 * to any lane: they are served ahead of lane callers by the pool (and may use its reserve), so lanes never hold
 * them back.
 *
 * <p><b>Caps.</b> A lane whose cap is at or above the pool's budget (maximumPoolSize, lowered by a server-aware
 * cap; read at each admission) cannot bind before the budget does: its callers are admitted at once, and wait,
 * if they must, in the pool's queue, where running threads keep the pool's throughput (see
 * {@code ConnectionBag}). A lane whose cap is below the budget admits while fewer than {@code cap} callers are
 * admitted; others wait at the cap, first come first served, within their timeout, and each caller leaving
 * the lane signals the first of them. Every admission is counted, capped or not, so a cap that starts to bind
 * (the budget grew, or the cap was lowered) counts the callers admitted before it; they keep their place, and
 * new callers wait until the lane is below its cap. A waiter at the cap also looks again every 50 ms, so a cap
 * that stops binding because the server-aware cap moved frees it without a signal.
 *
 * <p><b>Minimums and shares: the rank a lane's caller waits at.</b> Lanes do not queue callers for the budget;
 * the pool does, by priority, and a lane sets the rank its caller waits at ({@link #rank}). A caller admitted
 * while its lane had fewer than {@code minimum} callers admitted waits at the guaranteed rank: the pool hands
 * it the next connection returned anywhere, ahead of every other non-CRITICAL caller, and running threads do
 * not take connections meanwhile. So when a lane needs its minimum, borrowed capacity goes back to it at the
 * next return, never after another lane's borrowing; a lent connection is never taken from a borrower. (Such a
 * caller is not CRITICAL: it cannot open or be handed the emergency reserve, and may be shed like any NORMAL
 * caller; like a CRITICAL one, it is not turned away by maxWaiting.) Otherwise, a caller whose lane has more
 * callers admitted than its weighted share of the budget ({@code budget * weight / sum of the weights of lanes
 * with callers admitted}) waits at BULK rank if another lane has callers admitted (BULK is aged after a second,
 * so none starves), else at its own priority. Ranks are decided when the caller must wait and kept while it
 * waits, so shares are approximate under shifting load: two busy lanes with weights 3 and 1 settle near three
 * to one.
 *
 * <p><b>Cost.</b> Admission to a lane without a binding cap is one atomic increment (and leaving, one decrement);
 * to a capped lane, the same under the lane's lock. The rank is computed only for callers that must wait. Only
 * capped lanes' admissions and {@link #reconfigure} take a lock ({@link ReentrantLock}s: nothing is
 * synchronized); nothing blocks under one but the wait at a cap ({@link Condition#awaitNanos}, which releases
 * it).
 */
public final class LaneBudget {

    private final Map<String, Slot> lanes = new LinkedHashMap<>();
    private final Slot[] order;
    /** Whether the main lane was added (not configured): its cap is unlimited, and checks skip it. */
    private final boolean implicitMain;
    private final IntSupplier budget;
    /** Serialises {@link #reconfigure}. */
    private final ReentrantLock configLock = new ReentrantLock();

    /**
     * @param configured the lanes; a {@link Lane#MAIN} lane is added if absent
     * @param budget     the pool's budget now
     */
    public LaneBudget(List<Lane> configured, IntSupplier budget) {
        this.budget = budget;
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

    private List<Lane> configured(Lane replacing) {
        List<Lane> all = new ArrayList<>();
        for (Slot s : order) {
            boolean implicit = implicitMain && s.name().equals(Lane.MAIN);
            if (replacing != null && s.name().equals(replacing.name())) {
                all.add(replacing);
            } else if (!implicit) {
                all.add(s.config);
            }
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
     * @return how many callers the lane had admitted before this one (0 or more), or -1 if it must wait
     */
    public int tryAdmit(Slot lane) {
        if (lane.config.cap() >= budget.getAsInt()) {
            return lane.admitted.getAndIncrement();
        }
        lane.lock.lock();
        try {
            if (lane.atCap == 0 && lane.admitted.get() < lane.config.cap()) {
                return lane.admitted.getAndIncrement();
            }
            return -1;
        } finally {
            lane.lock.unlock();
        }
    }

    /**
     * Admits a caller to {@code lane}, waiting at its cap for {@code timeoutNanos} at most.
     *
     * @return how many callers the lane had admitted before this one, or -1 on timeout
     * @throws InterruptedException if interrupted while waiting at the cap (not admitted then)
     */
    public int admit(Slot lane, long timeoutNanos) throws InterruptedException {
        int before = tryAdmit(lane);
        if (before >= 0) {
            return before;
        }
        long deadline = System.nanoTime() + timeoutNanos;
        lane.lock.lock();
        try {
            lane.atCap++;
            try {
                for (;;) {
                    if (lane.config.cap() >= budget.getAsInt() || lane.admitted.get() < lane.config.cap()) {
                        return lane.admitted.getAndIncrement();
                    }
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0) {
                        return -1;
                    }
                    lane.room.awaitNanos(Math.min(remaining, CAP_RECHECK_NANOS));
                }
            } finally {
                lane.atCap--;
                if (lane.atCap > 0 && lane.admitted.get() < lane.config.cap()) {
                    lane.room.signal(); // room left (we timed out, or more left): the next one looks
                }
            }
        } finally {
            lane.lock.unlock();
        }
    }

    /** A caller leaves its lane: its connection is back, or it got none. */
    public void leave(Slot lane) {
        lane.admitted.decrementAndGet();
        if (lane.atCap > 0) { // volatile read: a waiter counted itself under the lock before it awaited
            lane.lock.lock();
            try {
                lane.room.signal();
            } finally {
                lane.lock.unlock();
            }
        }
    }

    /** How many lanes there are (the main lane included). */
    public int size() {
        return order.length;
    }

    /**
     * The rank a caller of {@code lane} waits at in the pool if it must (see the class notes).
     *
     * @param admittedBefore what {@link #tryAdmit} or {@link #admit} returned for this caller
     * @return {@link Rank#GUARANTEED} within the lane's minimum; else BULK above its weighted share when another
     *         lane has callers admitted; else the caller's own priority
     */
    public Rank rank(Slot lane, Priority own, int admittedBefore) {
        Lane c = lane.config;
        if (admittedBefore < c.minimum()) {
            return Rank.GUARANTEED;
        }
        if (own == Priority.BULK) {
            return Rank.BULK;
        }
        long admitted = lane.admitted.get();
        long weights = c.weight();
        boolean others = false;
        for (Slot s : order) {
            if (s != lane && s.admitted.get() > 0) {
                weights += s.config.weight();
                others = true;
            }
        }
        boolean aboveShare = admitted * weights > (long) budget.getAsInt() * c.weight();
        return aboveShare && others ? Rank.BULK : Rank.NORMAL;
    }

    /** The rank a caller waits at in the pool: a priority, plus the guaranteed rank of a lane's minimum. */
    public enum Rank {
        /** A lane's caller within its minimum: after CRITICAL callers, before everyone else. */
        GUARANTEED,
        NORMAL,
        BULK
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
            out.add(new LaneState(s.config, lent[s.index], s.admitted.get() - lent[s.index], s.atCap));
        }
        return out;
    }

    /** One lane's count and cap queue. */
    public static final class Slot {
        volatile Lane config;
        final int index;
        /** Callers admitted: lent a connection, or waiting in the pool for one. */
        final AtomicInteger admitted = new AtomicInteger();
        final ReentrantLock lock = new ReentrantLock(true);
        final Condition room = lock.newCondition();
        /** Callers waiting at the cap (written under the lock). */
        volatile int atCap;

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
