package dev.ferry.batch;

import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * Batches in flight on one data source, over every batcher built on it: no more than the pool has connections,
 * so two helpers on one pool never ask for twice the pool and then wait for connections past their requests'
 * deadlines.
 *
 * <p>A group that finds the budget spent registers as waiting and then tries once more, while a batch that ends
 * gives its permit back and then wakes waiting groups: one of the two always sees the other, so no group waits
 * while a permit is free (if the pool grows, waiting groups are woken by the next permit returned). Waking a
 * group drains it outside every lock; that hands its next batch to the executor, and fails the requests that
 * expired in its queue (their callbacks run then, on the waking thread, which holds no lock and no slot).
 */
final class InFlightBudget {

    private static final Map<Object, InFlightBudget> BY_SOURCE = new WeakHashMap<>();

    private final IntSupplier capacity;
    private final AtomicInteger used = new AtomicInteger();
    private final ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();

    InFlightBudget(IntSupplier capacity) {
        this.capacity = capacity;
    }

    /**
     * The budget shared by every batcher on {@code source}, created on first use (keyed weakly by the data
     * source's {@code equals}, which data sources leave as identity).
     */
    static InFlightBudget of(Object source, IntSupplier capacity) {
        synchronized (BY_SOURCE) {
            return BY_SOURCE.computeIfAbsent(source, s -> new InFlightBudget(capacity));
        }
    }

    boolean tryAcquire() {
        for (;;) {
            int n = used.get();
            if (n >= Math.max(1, capacity.getAsInt())) {
                return false;
            }
            if (used.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Registers a group to be woken when a permit comes back; the caller then tries {@link #tryAcquire} again. */
    void awaitPermit(Runnable wake) {
        waiting.add(wake);
    }

    void release() {
        used.decrementAndGet();
        Runnable next;
        // Wake waiting groups while permits are free: a woken group with nothing queued takes none.
        while (used.get() < capacity.getAsInt() && (next = waiting.poll()) != null) {
            next.run();
        }
    }

    int inUse() {
        return used.get();
    }
}
