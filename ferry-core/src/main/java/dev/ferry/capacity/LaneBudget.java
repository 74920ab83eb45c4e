package dev.ferry.capacity;

import dev.ferry.Priority;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * Shares one pool's connections among named lanes: each lane has a guaranteed minimum, a cap, and a weight for
 * what lies above the minimums. Engine class behind {@code FerryDataSource.lane(name)}; not for direct use.
 *
 * <h2>Design notes</h2>
 *
 * <p><b>Admission.</b> A borrower in a lane is admitted to it before it borrows, and leaves it when it returns
 * the connection, or at once if it got none. Callers that name no lane use the {@link Lane#MAIN} lane, which
 * exists in every lane setup (minimum 0, cap unlimited, weight 1, unless configured). CRITICAL callers are not
 * admitted to any lane: they are served ahead of everyone by the pool (and may use its reserve), so lanes never
 * hold them back.
 *
 * <p><b>Caps.</b> A lane whose cap is below the pool's budget (maximumPoolSize, lowered by a server-aware cap;
 * read at each admission) admits through a fair {@link Semaphore} of {@code cap} permits: at its cap, callers
 * wait there, first come first served, within their timeout. A cap at or above the budget cannot bind before
 * the pool's own budget does, so such a lane's admission is free: its callers wait in the pool's queue like any
 * caller, where running threads keep the pool's throughput (see {@code ConnectionBag}). The fair semaphore hands
 * permits over strictly in order, so a capped lane under heavy contention is served at the rate threads wake,
 * a price of its cap.
 *
 * <p><b>Minimums and shares: the rank a lane's caller waits at.</b> Lanes do not queue callers for the budget;
 * the pool does, by priority, and a lane sets the rank its caller waits at ({@link #rank}) from its demand: the
 * connections lent to it now (counted by the pool from its connections) plus its callers already waiting in the
 * pool. A caller whose lane's demand before it is below the lane's minimum waits at CRITICAL rank: the pool
 * hands it the next connection returned anywhere, ahead of every lane at or above its minimum, and running
 * threads do not take connections meanwhile. So when a lane needs its minimum, borrowed capacity goes back to
 * it at the next return, never after another lane's borrowing; a lent connection is never taken from a
 * borrower. (Rank only: such a caller cannot open the emergency reserve and may be shed like any NORMAL caller;
 * like a CRITICAL one, it is not turned away by maxWaiting.) Above its minimum, a caller whose lane's demand,
 * itself included, is above the lane's weighted share of the budget ({@code budget * weight / sum of the weights
 * of lanes with demand}) waits at BULK rank if another lane has demand too (BULK is aged after a second, so none
 * starves); otherwise at its own priority. Ranks are decided when the caller arrives and kept while it waits,
 * so shares are approximate under shifting load: two busy lanes with weights 3 and 1 settle near three to one.
 *
 * <p><b>Cost.</b> Admission to a lane without a binding cap is a comparison; to a capped lane, a semaphore
 * {@code tryAcquire}. Demand is counted only for callers that must wait (a scan of the pool's connections and a
 * striped count of waiters per lane, both on the waiting path). Borrowing and returning take no lock; only
 * {@link #reconfigure} is serialised (synchronized, nothing inside it blocks).
 */
public final class LaneBudget {

    private final Map<String, Slot> lanes = new LinkedHashMap<>();
    private final Slot[] order;
    /** Whether the main lane was added (not configured): its cap is unlimited, and checks skip it. */
    private final boolean implicitMain;
    private final IntSupplier budget;

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

    /** Checks lanes against a budget: unique names, caps within it, and minimums that fit. */
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

    /** Checks every configured lane against a new budget (the pool's maximumPoolSize, being changed). */
    public void checkBudget(int maximumPoolSize) {
        validate(configured(null), maximumPoolSize);
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
     * Admits a caller to {@code lane}, waiting at a capped lane's cap until {@code deadlineNanos}
     * (System.nanoTime) at most; {@code deadlineNanos} is read only if it must wait.
     *
     * @return the admission (give it back with {@link #leave}), or null on timeout
     * @throws InterruptedException if interrupted while waiting at the cap (not admitted then)
     */
    public Admission admit(Slot lane, long timeoutNanos) throws InterruptedException {
        Admission now = tryAdmit(lane);
        if (now != null) {
            return now;
        }
        if (!lane.gate.tryAcquire(timeoutNanos, TimeUnit.NANOSECONDS)) {
            return null;
        }
        return lane.capped;
    }

    /** Admits a caller to {@code lane} if it need not wait (no clock read); null if it must. */
    public Admission tryAdmit(Slot lane) throws InterruptedException {
        if (lane.config.cap() >= budget.getAsInt()) {
            return lane.uncapped;
        }
        if (!lane.gate.tryAcquire(0, TimeUnit.NANOSECONDS)) { // fair: no overtaking callers already waiting
            return null;
        }
        return lane.capped;
    }

    /** A caller leaves its lane: its connection is back, or it got none. */
    public void leave(Admission admission) {
        if (admission.gated) {
            admission.lane.gate.release();
        }
    }

    /** How many lanes there are (the main lane included): the length of the pool's lent-by-lane counts. */
    public int size() {
        return order.length;
    }

    /** A caller of {@code lane} starts waiting in the pool (demand); {@link #served} when it stops. */
    public void waiting(Slot lane) {
        lane.queued.increment();
    }

    public void served(Slot lane) {
        lane.queued.decrement();
    }

    /**
     * The rank a caller of {@code lane} about to wait in the pool waits at (see the class notes): CRITICAL while
     * its lane's demand is below its minimum, BULK above its weighted share when another lane has demand, else
     * its own priority.
     *
     * @param lent connections lent now per lane, by {@link Slot#index()}
     */
    public Priority rank(Slot lane, Priority own, int[] lent) {
        long before = lent[lane.index] + lane.queued.sum();
        Lane c = lane.config;
        if (before < c.minimum()) {
            return Priority.CRITICAL;
        }
        if (own == Priority.BULK) {
            return own;
        }
        long weights = c.weight();
        boolean others = false;
        for (Slot s : order) {
            if (s != lane && lent[s.index] + s.queued.sum() > 0) {
                weights += s.config.weight();
                others = true;
            }
        }
        boolean aboveShare = (before + 1) * weights > (long) budget.getAsInt() * c.weight();
        return aboveShare && others ? Priority.BULK : own;
    }

    /** Changes a lane's minimum, cap and weight; the minimums must still fit the budget. */
    public synchronized void reconfigure(Lane changed, int maximumPoolSize) {
        Slot slot = lane(changed.name());
        validate(configured(changed), maximumPoolSize);
        int delta = changed.cap() - slot.config.cap();
        slot.config = changed;
        if (delta > 0) {
            slot.gate.release(delta);
        } else if (delta < 0) {
            slot.gate.shrink(-delta); // callers holding permits keep them; the lane settles as they leave
        }
    }

    /**
     * Each lane's settings and use now, in configured order.
     *
     * @param lent connections lent now per lane, by {@link Slot#index()}
     */
    public List<LaneState> state(int[] lent) {
        List<LaneState> out = new ArrayList<>();
        for (Slot s : order) {
            out.add(new LaneState(s.config, lent[s.index], (int) s.queued.sum(), s.gate.getQueueLength()));
        }
        return out;
    }

    /** One lane's counts and cap gate. */
    public static final class Slot {
        volatile Lane config;
        final int index;
        /** Callers of this lane waiting in the pool (counted on the waiting path only; striped: many wait at once). */
        final LongAdder queued = new LongAdder();
        final ResizableSemaphore gate;
        final Admission uncapped = new Admission(this, false);
        final Admission capped = new Admission(this, true);

        Slot(Lane config, int index) {
            this.config = config;
            this.index = index;
            this.gate = new ResizableSemaphore(Math.min(config.cap(), Integer.MAX_VALUE / 2));
        }

        public String name() {
            return config.name();
        }

        /** Its position in the lanes' order: the index of its count in lent-by-lane arrays. */
        public int index() {
            return index;
        }
    }

    /** A caller's place in a lane: which lane, and whether it holds one of the lane's cap permits. */
    public static final class Admission {
        final Slot lane;
        final boolean gated;

        Admission(Slot lane, boolean gated) {
            this.lane = lane;
            this.gated = gated;
        }

        public Slot lane() {
            return lane;
        }
    }

    /**
     * A lane's settings and use at one moment.
     *
     * @param lent         connections lent to the lane's callers
     * @param waiting      its callers waiting in the pool for a connection
     * @param waitingAtCap its callers waiting for the lane's cap
     */
    public record LaneState(Lane lane, int lent, int waiting, int waitingAtCap) {
    }

    /** A fair semaphore whose permits can be taken away (a lane's cap lowered while running). */
    static final class ResizableSemaphore extends Semaphore {
        ResizableSemaphore(int permits) {
            super(permits, true);
        }

        void shrink(int by) {
            reducePermits(by);
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
