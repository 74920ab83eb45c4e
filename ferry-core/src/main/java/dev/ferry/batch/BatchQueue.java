package dev.ferry.batch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One group's queue of requests and its in-flight slots. Every method marked "lock held" runs under
 * {@link #lock}, which guards the queue, the slot count and the timer; it is held only to move requests, never
 * while a batch runs, a future completes or user code runs: what a drain fails (expired requests) is returned
 * to the caller to complete after unlocking.
 */
final class BatchQueue<K, V> {

    final ReentrantLock lock = new ReentrantLock();
    final Condition notFull = lock.newCondition();
    private final ArrayDeque<Request<K, V>> queue = new ArrayDeque<>();
    private final java.util.concurrent.atomic.LongAdder withdrawn;
    /** Batches of this group taken and not yet released (lock held). */
    int inFlight;
    /** The armed deadline sweep or linger timer, if any, and when it fires (lock held). */
    Future<?> timer;
    long timerDue;
    /** Set while this group is registered with the shared budget, so it registers once. */
    final AtomicBoolean awaitingBudget = new AtomicBoolean();

    BatchQueue(java.util.concurrent.atomic.LongAdder withdrawn) {
        this.withdrawn = withdrawn;
    }

    /** What one drain decided: a batch to send (null if none) and requests that expired in the queue. */
    static final class Drain<K, V> {
        List<Request<K, V>> batch;
        FlushReason reason;
        List<Request<K, V>> expired;
    }

    int size() {
        return queue.size();
    }

    void add(Request<K, V> request) {
        queue.addLast(request);
    }

    Request<K, V> head() {
        skipWithdrawn();
        return queue.peekFirst();
    }

    /** Empties the queue (lock held): for close. */
    List<Request<K, V>> clear() {
        List<Request<K, V>> all = new ArrayList<>(queue);
        queue.clear();
        notFull.signalAll();
        return all;
    }

    /**
     * Moves requests past their deadline from the head of the queue to {@code drain.expired} (deadlines follow
     * arrival, so they are at the head), and drops withdrawn ones. Lock held.
     */
    void takeExpired(long now, Drain<K, V> drain) {
        Request<K, V> head;
        while ((head = queue.peekFirst()) != null && (head.isWithdrawn() || now - head.deadline >= 0)) {
            queue.pollFirst();
            notFull.signalAll();
            if (head.isWithdrawn()) {
                withdrawn.increment();
            } else if (head.withdraw()) { // expired while queued: never sent
                if (drain.expired == null) {
                    drain.expired = new ArrayList<>();
                }
                drain.expired.add(head);
            }
        }
    }

    private void skipWithdrawn() {
        Request<K, V> head;
        while ((head = queue.peekFirst()) != null && head.isWithdrawn()) {
            queue.pollFirst();
            withdrawn.increment();
            notFull.signalAll();
        }
    }

    /**
     * Takes up to {@code cap} requests that are still queued, marking each sent; withdrawn ones are dropped.
     * Lock held. Returns the summed and longest queue wait through {@code waits} (two longs).
     */
    List<Request<K, V>> take(int cap, long now, long[] waits) {
        List<Request<K, V>> batch = new ArrayList<>(Math.min(cap, queue.size()));
        while (batch.size() < cap && !queue.isEmpty()) {
            Request<K, V> r = queue.pollFirst();
            if (!r.send()) {
                withdrawn.increment(); // withdrawn by its caller: never executed
                continue;
            }
            long w = now - r.enqueuedAt;
            waits[0] += w;
            waits[1] = Math.max(waits[1], w);
            batch.add(r);
        }
        notFull.signalAll();
        return batch;
    }
}
