package dev.ferry.pool;

import dev.ferry.Priority;
import dev.ferry.Ticker;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The callers waiting for a connection, in the order they are served: by priority, first come first served
 * within a priority.
 *
 * <h2>Design notes</h2>
 *
 * <p>One lock-free deque per rank: CRITICAL, GUARANTEED (a lane's caller within its lane's minimum, see
 * {@code LaneBudget}), NORMAL, BULK. The head to serve is the CRITICAL deque's head if there is one, else the
 * GUARANTEED deque's. Otherwise it is the NORMAL head, unless the BULK head has waited {@link #AGING_NANOS} or more and arrived before the NORMAL
 * head: an aged BULK waiter competes with NORMAL ones by arrival time, so a stream of NORMAL callers cannot
 * hold BULK work back for more than a second (a stream of CRITICAL callers can: they always go first). A
 * counter of CRITICAL and GUARANTEED waiters (raised before one is added, lowered after one is taken out) lets
 * the common case, none of them, skip those two deques. Each operation is linearizable on its own deque; a reader looking at several deques while a
 * waiter joins may miss it, which the bag tolerates (a waiter scans for a free connection after joining, see
 * {@link ConnectionBag}).
 */
final class WaiterQueue<W extends WaiterQueue.Ranked> implements Iterable<W> {

    /** How long a BULK waiter waits before it is served alongside NORMAL ones, by arrival. */
    static final long AGING_NANOS = 1_000_000_000L;

    static final int CRITICAL = 0;
    static final int GUARANTEED = 1;
    static final int NORMAL = 2;
    static final int BULK = 3;

    /** The rank of a caller of this priority that is not a lane's guaranteed caller. */
    static int rankOf(Priority p) {
        return switch (p) {
            case CRITICAL -> CRITICAL;
            case NORMAL -> NORMAL;
            case BULK -> BULK;
        };
    }

    /** What the queue needs of a waiter: its rank and when it started waiting, by the queue's clock. */
    interface Ranked {
        int rank();

        long arrivedAt();
    }

    private final Ticker clock;

    /** @param clock the clock of {@link Ranked#arrivedAt()} and of aging (injected, so tests drive aging) */
    WaiterQueue(Ticker clock) {
        this.clock = clock;
    }

    /**
     * CRITICAL and GUARANTEED waiters queued: raised before one is added, lowered after one is taken out, so
     * zero means both deques are empty and the hot path reads one counter instead of two deques. (Rarely written:
     * those ranks are rare.)
     */
    private final java.util.concurrent.atomic.AtomicInteger handOffRanked = new java.util.concurrent.atomic.AtomicInteger();
    private final ConcurrentLinkedDeque<W> critical = new ConcurrentLinkedDeque<>();
    private final ConcurrentLinkedDeque<W> guaranteed = new ConcurrentLinkedDeque<>();
    private final ConcurrentLinkedDeque<W> normal = new ConcurrentLinkedDeque<>();
    private final ConcurrentLinkedDeque<W> bulk = new ConcurrentLinkedDeque<>();

    private ConcurrentLinkedDeque<W> of(W w) {
        return switch (w.rank()) {
            case CRITICAL -> critical;
            case GUARANTEED -> guaranteed;
            case NORMAL -> normal;
            default -> bulk;
        };
    }

    void add(W w) {
        if (w.rank() <= GUARANTEED) {
            handOffRanked.incrementAndGet();
        }
        of(w).add(w);
    }

    /** Puts a waiter back at the head of its priority (it was refused a connection it had been given). */
    void offerFirst(W w) {
        if (w.rank() <= GUARANTEED) {
            handOffRanked.incrementAndGet();
        }
        of(w).offerFirst(w);
    }

    boolean remove(W w) {
        boolean removed = of(w).remove(w);
        if (removed && w.rank() <= GUARANTEED) {
            handOffRanked.decrementAndGet();
        }
        return removed;
    }

    private W taken(W w) {
        if (w != null) {
            handOffRanked.decrementAndGet();
        }
        return w;
    }

    boolean isEmpty() {
        return critical.isEmpty() && guaranteed.isEmpty() && normal.isEmpty() && bulk.isEmpty();
    }

    /** Whether a CRITICAL or GUARANTEED caller waits: then every returned connection goes straight to one. */
    boolean handOffRankWaiting() {
        return handOffRanked.get() != 0;
    }

    /** The waiter to serve next, or null. */
    W peek() {
        if (handOffRanked.get() != 0) {
            W c = critical.peekFirst();
            if (c == null) {
                c = guaranteed.peekFirst();
            }
            if (c != null) {
                return c;
            }
        }
        W n = normal.peekFirst();
        W b = bulk.peekFirst();
        if (b == null) {
            return n;
        }
        return n == null || bulkAged(b, n) ? b : n;
    }

    /**
     * The first waiter of the highest priority that has one, ignoring aging: for questions about the head that
     * do not decide who is served (is it a virtual thread?), without reading the clock.
     */
    W peekHighest() {
        W w = null;
        if (handOffRanked.get() != 0) {
            w = critical.peekFirst();
            if (w == null) {
                w = guaranteed.peekFirst();
            }
        }
        if (w == null) {
            w = normal.peekFirst();
            if (w == null) {
                w = bulk.peekFirst();
            }
        }
        return w;
    }

    /** Whether BULK's head has waited long enough, and arrived before NORMAL's head, to be served first. */
    private boolean bulkAged(W b, W n) {
        return clock.read() - b.arrivedAt() >= AGING_NANOS && b.arrivedAt() - n.arrivedAt() <= 0;
    }

    /** Removes and returns the first CRITICAL waiter, or null. */
    W pollCritical() {
        return taken(critical.pollFirst());
    }

    /** Removes and returns the waiter to serve next, or null. */
    W poll() {
        for (;;) {
            if (handOffRanked.get() != 0) {
                W w = critical.pollFirst();
                if (w == null) {
                    w = guaranteed.pollFirst();
                }
                if (w != null) {
                    return taken(w);
                }
            }
            W n = normal.peekFirst();
            W b = bulk.peekFirst();
            if (n == null && b == null) {
                return null;
            }
            // The head of the chosen deque may change before pollFirst; whoever is its head then is next in it.
            W w = (b != null && (n == null || bulkAged(b, n)) ? bulk : normal).pollFirst();
            if (w != null) {
                return w;
            }
        }
    }

    /** Waiters in service order: CRITICAL, GUARANTEED, NORMAL, BULK (aging affects only who is served first). */
    @Override
    public Iterator<W> iterator() {
        return new Iterator<>() {
            private final Iterator<W>[] parts = iterators();
            private int i;

            @SuppressWarnings("unchecked")
            private Iterator<W>[] iterators() {
                return new Iterator[] {critical.iterator(), guaranteed.iterator(), normal.iterator(), bulk.iterator()};
            }

            @Override
            public boolean hasNext() {
                while (i < parts.length && !parts[i].hasNext()) {
                    i++;
                }
                return i < parts.length;
            }

            @Override
            public W next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return parts[i].next();
            }
        };
    }
}
