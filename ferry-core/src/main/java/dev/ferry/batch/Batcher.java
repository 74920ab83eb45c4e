package dev.ferry.batch;

import dev.ferry.Priority;
import dev.ferry.Scheduler;
import dev.ferry.Ticker;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * Coalesces concurrent requests into batches: callers submit one key each and get a future; the batcher sends
 * many keys in one call of a {@link BatchFunction}.
 *
 * <h2>Design notes</h2>
 *
 * <p><b>Natural batching.</b> There is no timer floor. A group may have up to {@code maxInFlight} batches
 * executing. When a request arrives and a slot is free it is sent at once, alone. When all slots are busy,
 * requests queue; the moment a batch ends, its slot takes everything queued (up to {@code maxBatchSize}) and
 * sends it. So an idle system adds no latency, and under load batches grow by themselves to match the arrival
 * rate. (java-dataloader needs a manual dispatch or a polling window.) Linger, off by default, holds a batch until
 * it has {@code minBatch} requests or its oldest has waited {@code linger}.
 *
 * <p><b>Groups and the shared budget.</b> Requests queue per group key, and a batch holds one group's keys.
 * Identical keys in a batch are sent once. The JDBC helpers built on one data source also share one
 * {@link InFlightBudget} no larger than its pool, so together they never start more batches than there are
 * connections (critical requests aside: they take no slot and no permit).
 *
 * <p><b>Slots: who counts what.</b> A drain (under the group's lock) that takes a batch increments the group's
 * {@code inFlight} and takes a budget permit; exactly one {@link #release} per taken batch gives both back, in
 * {@link #run}'s {@code finally} or, if the executor refuses the batch, in {@link #dispatch}. Critical requests
 * take no slot and no permit. The executor must run tasks on another thread and must not drop them.
 *
 * <p><b>What runs under the lock.</b> Only moving requests between the queue and a batch, counting slots and
 * arming the timer. Futures are never completed under a lock: a drain returns the requests that expired in the
 * queue and the caller fails them after unlocking. A batch's futures complete after its slot is released and the
 * next batch has been started, so a user callback that blocks (a fallback that calls {@code get} again) holds
 * neither a lock nor a slot.
 *
 * <p><b>Deadlines.</b> Every request has a deadline ({@code timeout} after submission, from the injected
 * {@link Ticker}), and is never sent after it: expired requests are failed when a queue is drained, by a sweep on
 * the injected {@link Scheduler}, and before every execution of a batch, including retries and split halves.
 * Once sent, a request completes when its batch ends; the JDBC helpers bound that by statement timeouts (whole
 * seconds, rounded up), a plain {@link BatchFunction} must bound it itself.
 * Each execution gets the time left until the earliest deadline among its requests (the JDBC helpers turn it
 * into the pool wait and the statement timeout), and a retry's backoff never sleeps past it.
 *
 * <p><b>Errors.</b> An {@link ErrorPolicy} decides: retry (serialization failure, deadlock, and connection faults
 * for reads) with jittered exponential backoff; split in two, recursively, only for errors that belong to rows;
 * fail every caller at once with the real error for anything else; and never re-execute a batch whose COMMIT
 * may have happened ({@link OutcomeUnknownException}). An exception thrown by user code inside the batch
 * function is isolated like a row error. A batch function may report per-key failures ({@link KeyedResult}).
 *
 * <p><b>Cancel and interrupt.</b> A request is QUEUED, then SENT or WITHDRAWN, by CAS ({@link Request}). Cancelling
 * its future, or interrupting a blocked caller, withdraws it if it was not sent: it is then never executed.
 * Once sent, a cancel does nothing, and an interrupted writer is told {@link OutcomeUnknownException}.
 *
 * <p><b>Caller runs.</b> A blocked caller ({@link #call}) with a free slot runs the batch on its own thread,
 * saving a hand-off, only where its interrupt cannot break the batch for the other callers in it: reads, on a
 * platform thread (whose socket I/O ignores interrupts). Its interrupt status is cleared while the batch runs and
 * restored after; a failure caused by an interrupt on the way (a pool wait) is retried. Writes and virtual-thread
 * callers hand the batch to the executor.
 */
public final class Batcher<K, V> implements AutoCloseable {

    private static final Object SINGLE_GROUP = new Object();
    private static final long RETRY_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Batcher.class);

    private final String name;
    private final BatchCall<K, V> function;
    private final Function<? super K, ?> groupBy;
    private final int maxBatchSize;
    private final int maxInFlight;
    private final int maxQueued;
    private final int minBatch;
    private final long lingerNanos;
    private final long timeoutNanos;
    private final int maxRetries;
    private final boolean reads;
    private final boolean callerRuns;
    private final ErrorPolicy policy;
    private final InFlightBudget budget;
    private final OverflowPolicy overflow;
    private final Ticker ticker;
    private final Scheduler scheduler;
    private final java.util.concurrent.ScheduledExecutorService ownScheduler;
    private final Executor executor;
    private final ExecutorService ownExecutor;
    private final ConcurrentHashMap<Object, BatchQueue<K, V>> groups = new ConcurrentHashMap<>();
    private final BatchCounters counters = new BatchCounters();
    /** Null when no metrics factory was given. */
    private final dev.ferry.observe.BatchMetrics metrics;
    private volatile boolean enabled = true;
    private volatile boolean closed;

    Batcher(BatcherBuilder<K, V> b, Scheduler scheduler, java.util.concurrent.ScheduledExecutorService ownScheduler,
            Executor executor, ExecutorService ownExecutor) {
        this.name = b.name;
        this.function = b.call;
        this.groupBy = b.groupBy;
        this.maxBatchSize = b.maxBatchSize;
        this.maxInFlight = b.maxInFlight;
        this.maxQueued = b.maxQueued;
        this.minBatch = b.minBatch;
        this.lingerNanos = b.linger.toNanos();
        this.timeoutNanos = b.timeout.toNanos();
        this.maxRetries = b.maxRetries;
        this.reads = b.reads;
        this.callerRuns = b.callerRuns;
        this.policy = new ErrorPolicy(b.reads, b.rowError);
        this.budget = b.budget;
        this.overflow = b.overflow;
        this.ticker = b.ticker;
        this.scheduler = scheduler;
        this.ownScheduler = ownScheduler;
        this.executor = executor;
        this.ownExecutor = ownExecutor;
        this.metrics = b.metrics == null ? null : b.metrics.create(this); // last: it may read stats() at once
    }

    /** The name given to the builder: it starts every error message, and tags this batcher's metrics. */
    public String name() {
        return name;
    }

    /** A builder for a batcher that runs batches with {@code function}. */
    public static <K, V> BatcherBuilder<K, V> builder(BatchFunction<K, V> function) {
        return new BatcherBuilder<>(function);
    }

    /** Submits a normal-priority request. */
    public CompletableFuture<V> submit(K key) {
        return submit(key, Priority.NORMAL);
    }

    /**
     * Submits a request. The future completes with the key's value after its batch ran, or fails with an
     * {@link SQLException}: the key's own error, a timeout, a rejection, the batcher's closing, or
     * {@link OutcomeUnknownException}. Cancelling it withdraws the request if it has not been sent yet.
     */
    public CompletableFuture<V> submit(K key, Priority priority) {
        return enqueue(key, priority, false).future;
    }

    /** The request itself, for the helpers (which map its future and wait on it with {@link #await(Request)}). */
    Request<K, V> request(K key, Priority priority, boolean blocking) {
        return enqueue(key, priority, blocking);
    }

    /**
     * Submits and waits, like {@link #get}, but runs the batch on the calling thread when a slot is free and the
     * batch reads (see the class notes).
     */
    public V call(K key, Priority priority) throws SQLException {
        return await(enqueue(key, priority, true));
    }

    /**
     * Submits and waits: the key's value, or the request's {@link SQLException}.
     *
     * @throws SQLException the key's error, a timeout, a rejection, an interrupt (HY008; for a write already
     *                      sent, {@link OutcomeUnknownException})
     */
    public V get(K key) throws SQLException {
        return call(key, Priority.NORMAL);
    }

    /** Waits for a future from this batcher and unwraps its SQLException. */
    public static <V> V await(CompletableFuture<V> future) throws SQLException {
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        } catch (CancellationException e) {
            throw new SQLException("the future was cancelled (a batcher's own future is cancelled only before "
                    + "its request is sent)", "HY008", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for a batched request", "HY008", e);
        }
    }

    /** Waits for one of our requests; an interrupt withdraws it if it was not sent (see the class notes). */
    V await(Request<K, V> request) throws SQLException {
        try {
            return request.future.get();
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        } catch (CancellationException e) {
            throw new SQLException(name + " - the request was cancelled before it was sent; it was not executed",
                    "HY008", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw interrupted(request, e);
        }
    }

    /** What an interrupted caller is told: withdrawn (never executed), or, for a write already sent, unknown. */
    SQLException interrupted(Request<K, V> request, InterruptedException e) {
        if (request.abandon()) {
            return new SQLException(name + " - interrupted while waiting; the request had not been sent and never "
                    + "will be", "HY008", e);
        }
        if (!reads) {
            counters.outcomeUnknown.increment();
            return new OutcomeUnknownException(name + " - interrupted while waiting; the write had already been "
                    + "sent and may still commit", e);
        }
        return new SQLException(name + " - interrupted while waiting for a read that was already sent", "HY008", e);
    }

    private static SQLException unwrap(Throwable cause) {
        if (cause instanceof SQLException) {
            return (SQLException) cause;
        }
        return new SQLException(String.valueOf(cause), "HY000", cause);
    }

    /** Switches batching on or off at run time; off, every request runs alone through the same path. */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public boolean isEnabled() {
        return enabled;
    }

    public BatchStats stats() {
        return counters.snapshot();
    }

    /** Requests queued now, over all groups (withdrawn ones not yet dropped included). */
    public int queued() {
        int n = 0;
        for (BatchQueue<K, V> g : groups.values()) {
            g.lock.lock();
            try {
                n += g.size();
            } finally {
                g.lock.unlock();
            }
        }
        return n;
    }

    /**
     * Fails every queued request (they were never sent) and refuses new ones; batches already running finish
     * and complete their futures. Returns without waiting for them.
     */
    @Override
    public void close() {
        closed = true; // before the queues are emptied: an enqueue checks it under the queue's lock
        for (BatchQueue<K, V> g : groups.values()) {
            List<Request<K, V>> dropped;
            g.lock.lock();
            try {
                dropped = g.clear();
                if (g.timer != null) {
                    g.timer.cancel(false);
                    g.timer = null;
                }
            } finally {
                g.lock.unlock();
            }
            for (Request<K, V> r : dropped) {
                if (r.withdraw()) {
                    fail(r, new SQLException(name + " - batcher closed before the request was sent; it was not "
                            + "executed", "08003"));
                }
            }
        }
        if (ownScheduler != null) {
            ownScheduler.shutdownNow();
        }
        if (ownExecutor != null) {
            ownExecutor.shutdown();
        }
        if (metrics != null) {
            try {
                metrics.close();
            } catch (RuntimeException e) {
                LOG.warn("{} - closing the metrics failed", name, e);
            }
        }
    }

    // ---------------------------------------------------------------- queueing

    private Request<K, V> enqueue(K key, Priority priority, boolean blocking) {
        return enqueue(key, priority, blocking, null);
    }

    private Request<K, V> enqueue(K key, Priority priority, boolean blocking, Request.Listener<V> listener) {
        long now = ticker.read();
        Request<K, V> request = new Request<>(key, now, now + timeoutNanos, listener);
        counters.requests.increment();
        if (key == null) {
            request.withdraw();
            fail(request, nullKey());
            return request;
        }
        if (closed) {
            request.withdraw();
            fail(request, closedException());
            return request;
        }
        BatchQueue<K, V> group;
        try {
            Object groupKey = groupBy == null ? SINGLE_GROUP : groupBy.apply(key);
            group = groups.computeIfAbsent(groupKey == null ? SINGLE_GROUP : groupKey,
                    g -> new BatchQueue<>(counters.withdrawn));
        } catch (RuntimeException e) {
            request.withdraw();
            fail(request, new SQLException(name + " - groupBy threw " + e, "HY000", e));
            return request;
        }
        if (priority == Priority.CRITICAL) {
            request.send();
            counters.sent(FlushReason.CRITICAL, 0, 0);
            List<Request<K, V>> alone = List.of(request);
            if (blocking && runsOnCaller()) {
                run(null, alone, true);
            } else {
                dispatch(null, alone);
            }
            return request;
        }
        SQLException refused = null;
        BatchQueue.Drain<K, V> drain = new BatchQueue.Drain<>();
        group.lock.lock();
        try {
            if (group.size() >= maxQueued) {
                refused = waitForRoom(group, request);
            }
            if (refused == null && closed) {
                refused = closedException();
            }
            if (refused == null) {
                group.add(request);
                drainIfReady(group, now, drain);
                if (drain.batch == null) {
                    armTimer(group, now);
                }
            }
        } finally {
            group.lock.unlock();
        }
        if (refused != null) {
            request.withdraw();
            fail(request, refused);
        }
        if (drain.batch != null) {
            if (blocking && drain.expired == null && runsOnCaller()) {
                run(group, drain.batch, true);
            } else {
                dispatch(group, drain.batch); // started first: failing the expired runs their callbacks
            }
        }
        failExpired(drain.expired);
        return request;
    }

    /**
     * Submits many keys at once (a page): they join the queue under one lock and go out together, in batches of
     * up to maxBatchSize, so a page sent to an idle batcher is one statement, not one per free slot. Null keys fail
     * their own requests. A page that cannot fit the queue (more than maxQueued keys, or, with REJECT, more than
     * the room left) is refused whole, before any key is queued, and none is executed. A CRITICAL page skips the
     * queue as one batch per maxBatchSize keys, not one task per key. With groupBy, keys are queued one by one.
     * {@code listener} (or null) is told as each request completes.
     */
    List<Request<K, V>> requestAll(List<K> keys, Priority priority, Request.Listener<V> listener) {
        if (groupBy != null) {
            List<Request<K, V>> each = new ArrayList<>(keys.size());
            for (K key : keys) {
                each.add(enqueue(key, priority, false, listener));
            }
            return each;
        }
        long now = ticker.read();
        List<Request<K, V>> all = new ArrayList<>(keys.size());
        List<Request<K, V>> queued = new ArrayList<>(keys.size());
        counters.requests.add(keys.size()); // once per page: an add per key was a tenth of a page's samples
        for (K key : keys) {
            Request<K, V> request = new Request<>(key, now, now + timeoutNanos, listener);
            all.add(request);
            if (key == null) {
                request.withdraw();
                fail(request, nullKey());
            } else {
                queued.add(request);
            }
        }
        if (queued.isEmpty()) {
            return all;
        }
        if (closed) {
            refuseAll(queued, closedException());
            return all;
        }
        if (priority == Priority.CRITICAL) {
            for (int from = 0; from < queued.size(); from += maxBatchSize) {
                List<Request<K, V>> batch = new ArrayList<>(queued.subList(from,
                        Math.min(queued.size(), from + maxBatchSize)));
                batch.forEach(Request::send);
                counters.sent(FlushReason.CRITICAL, 0, 0);
                dispatch(null, batch);
            }
            return all;
        }
        BatchQueue<K, V> group = groups.computeIfAbsent(SINGLE_GROUP, g -> new BatchQueue<>(counters.withdrawn));
        SQLException refused = null;
        List<BatchQueue.Drain<K, V>> drains = new ArrayList<>();
        group.lock.lock();
        try {
            if (queued.size() > maxQueued) {
                refused = new SQLTransientException(name + " - a page of " + queued.size() + " keys is larger than "
                        + "the queue (maxQueued=" + maxQueued + "); refused whole, not executed", "53000");
            } else if (overflow == OverflowPolicy.REJECT && group.size() + queued.size() > maxQueued) {
                refused = new SQLTransientException(name + " - a page of " + queued.size() + " keys does not fit the "
                        + "queue (" + group.size() + " of maxQueued=" + maxQueued + " taken); refused whole, not "
                        + "executed", "53000");
            } else { // BLOCK: wait until the whole page fits, within the page's timeout
                long deadline = queued.get(0).deadline;
                while (refused == null && !closed && group.size() + queued.size() > maxQueued) {
                    long remaining = deadline - ticker.read();
                    if (remaining <= 0) {
                        refused = new SQLTimeoutException(name + " - the queue had no room for a page of "
                                + queued.size() + " keys (maxQueued=" + maxQueued + ") for the request's whole "
                                + "timeout (" + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + "ms); not executed",
                                "HYT00");
                        break;
                    }
                    try {
                        group.notFull.awaitNanos(remaining);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        refused = new SQLException(name + " - interrupted while waiting for room in the batch "
                                + "queue; not executed", "HY008", e);
                    }
                }
            }
            if (refused == null && closed) {
                refused = closedException();
            }
            if (refused == null) {
                for (Request<K, V> r : queued) {
                    group.add(r);
                }
                for (;;) { // as many batches as free slots take
                    BatchQueue.Drain<K, V> drain = new BatchQueue.Drain<>();
                    drainIfReady(group, now, drain);
                    drains.add(drain);
                    if (drain.batch == null || group.head() == null) {
                        break;
                    }
                }
                if (group.head() != null) {
                    armTimer(group, now);
                }
            }
        } finally {
            group.lock.unlock();
        }
        if (refused != null) {
            counters.rejected.add(queued.size());
            refuseAll(queued, refused);
            return all;
        }
        for (BatchQueue.Drain<K, V> drain : drains) {
            if (drain.batch != null) {
                dispatch(group, drain.batch);
            }
        }
        for (BatchQueue.Drain<K, V> drain : drains) {
            failExpired(drain.expired);
        }
        return all;
    }

    /** What a request for a null key fails with. */
    SQLException nullKey() {
        return new SQLException(name + " - the key is null; a null key matches no row", "22004");
    }

    private void refuseAll(List<Request<K, V>> requests, SQLException why) {
        for (Request<K, V> r : requests) {
            r.withdraw();
            fail(r, why);
        }
    }

    private boolean runsOnCaller() {
        return callerRuns && !dev.ferry.pool.VirtualThreadCheck.isVirtual(Thread.currentThread());
    }

    private SQLException closedException() {
        return new SQLException(name + " - batcher is closed; the request was not executed", "08003");
    }

    /**
     * Blocks for room (BLOCK) or refuses (REJECT). Returns the refusal, or null once there is room. Lock held;
     * the wait releases it.
     */
    private SQLException waitForRoom(BatchQueue<K, V> group, Request<K, V> request) {
        if (overflow == OverflowPolicy.REJECT) {
            counters.rejected.increment();
            return new SQLTransientException(name + " - batch queue is full (maxQueued=" + maxQueued
                    + "); request rejected, not executed", "53000");
        }
        try {
            while (group.size() >= maxQueued && !closed) {
                long remaining = request.deadline - ticker.read();
                if (remaining <= 0) {
                    counters.rejected.increment();
                    return new SQLTimeoutException(name + " - batch queue stayed full (maxQueued=" + maxQueued
                            + ") for the request's whole timeout (" + TimeUnit.NANOSECONDS.toMillis(timeoutNanos)
                            + "ms); not executed", "HYT00");
                }
                group.notFull.awaitNanos(remaining);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            counters.rejected.increment();
            return new SQLException(name + " - interrupted while waiting for room in the batch queue; not "
                    + "executed", "HY008", e);
        }
        return null;
    }

    /**
     * Takes the next batch into {@code drain} if a slot (and a budget permit) is free and the linger rule allows
     * it, counting the slot as taken; expired requests found on the way go to {@code drain.expired}. Lock held.
     */
    private void drainIfReady(BatchQueue<K, V> group, long now, BatchQueue.Drain<K, V> drain) {
        group.takeExpired(now, drain);
        Request<K, V> head = group.head();
        if (head == null || group.inFlight >= maxInFlight) {
            return;
        }
        boolean on = enabled;
        int cap = on ? maxBatchSize : 1;
        FlushReason reason;
        if (!on) {
            reason = FlushReason.DISABLED;
        } else if (group.size() >= cap) {
            reason = FlushReason.FULL;
        } else if (lingerNanos > 0) {
            if (group.size() >= minBatch) {
                reason = FlushReason.MIN_BATCH;
            } else if (now - head.enqueuedAt >= lingerNanos) {
                reason = FlushReason.LINGER;
            } else {
                return; // keep filling; the linger timer comes back
            }
        } else {
            reason = FlushReason.NATURAL;
        }
        if (budget != null && !budget.tryAcquire()) {
            if (group.awaitingBudget.compareAndSet(false, true)) {
                budget.awaitPermit(() -> {
                    group.awaitingBudget.set(false);
                    kick(group);
                });
            }
            if (!budget.tryAcquire()) { // a permit returned before we registered would not wake us: look again
                return;
            }
        }
        long[] waits = new long[2];
        drain.batch = group.take(cap, now, waits); // may be empty if every request was withdrawn meanwhile
        drain.reason = reason;
        group.inFlight++;
        if (!drain.batch.isEmpty()) {
            counters.sent(reason, waits[0], waits[1]);
        }
    }

    /** Arms the deadline sweep and, with linger, the linger timer for the queue's head. Lock held. */
    private void armTimer(BatchQueue<K, V> group, long now) {
        Request<K, V> head = group.head();
        if (head == null || closed) {
            return;
        }
        long due = head.deadline;
        if (lingerNanos > 0 && group.inFlight < maxInFlight && !group.awaitingBudget.get()) {
            // Not while waiting for a budget permit: the permit's return wakes the group, and a linger already
            // past would re-arm a zero-delay timer over and over.
            due = Math.min(due, head.enqueuedAt + lingerNanos);
        }
        if (group.timer != null && group.timerDue - due <= 0) {
            return; // an earlier (or equal) timer is already armed
        }
        if (group.timer != null) {
            group.timer.cancel(false);
        }
        group.timerDue = due;
        try {
            group.timer = scheduler.schedule(() -> onTimer(group), Duration.ofNanos(Math.max(0, due - now)));
        } catch (RuntimeException e) {
            // A scheduler that refuses (shut down) must not leak the slot this drain may have released: deadlines
            // are still enforced at every drain, and a batch ending drains.
            group.timer = null;
            if (!closed) {
                LOG.warn("{} - could not arm the batch timer: {}", name, e.toString());
            }
        }
    }

    private void onTimer(BatchQueue<K, V> group) {
        group.lock.lock();
        try {
            group.timer = null;
        } finally {
            group.lock.unlock();
        }
        kick(group);
    }

    /** Drains the group if it can send, outside any lock of the caller's, and starts what it took. */
    private void kick(BatchQueue<K, V> group) {
        start(group, drainNow(group));
    }

    /** Takes the next batch if one is ready and re-arms the timer, under the group's lock; starts nothing. */
    private BatchQueue.Drain<K, V> drainNow(BatchQueue<K, V> group) {
        BatchQueue.Drain<K, V> drain = new BatchQueue.Drain<>();
        group.lock.lock();
        try {
            long now = ticker.read();
            drainIfReady(group, now, drain);
            armTimer(group, now);
        } finally {
            group.lock.unlock();
        }
        return drain;
    }

    /** Starts a drained batch, then fails what expired (their callbacks run with no slot of ours held). */
    private void start(BatchQueue<K, V> group, BatchQueue.Drain<K, V> drain) {
        if (drain.batch != null) {
            dispatch(group, drain.batch);
        }
        failExpired(drain.expired);
    }

    private void failExpired(List<Request<K, V>> expired) {
        if (expired == null) {
            return;
        }
        for (Request<K, V> r : expired) {
            counters.timedOut.increment();
            fail(r, new SQLTimeoutException(name + " - request timed out after "
                    + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + "ms in the batch queue and was not executed",
                    "HYT00"));
        }
    }

    // ---------------------------------------------------------------- execution (no lock held)

    /**
     * Hands a batch to the executor. If the executor refuses (any Throwable: a thread pool that cannot create a
     * thread throws OutOfMemoryError), the batch's requests fail (never executed), its slot is given back and the
     * next batch of this group is tried, in a loop; the failures complete after the loop, when no slot is held.
     * A task the executor queued before throwing runs only if the refusal did not claim it first, so a slot is
     * released once. The executor must run tasks on another thread and must not drop them silently (a dropped
     * task would hold its slot forever).
     */
    private void dispatch(BatchQueue<K, V> group, List<Request<K, V>> batch) {
        List<Request<K, V>> refused = null;
        List<Request<K, V>> expired = null;
        Throwable cause = null;
        while (batch != null) {
            List<Request<K, V>> toRun = batch;
            java.util.concurrent.atomic.AtomicBoolean claimed = new java.util.concurrent.atomic.AtomicBoolean();
            try {
                executor.execute(() -> {
                    if (claimed.compareAndSet(false, true)) {
                        run(group, toRun, false);
                    }
                });
                break;
            } catch (Throwable rejected) {
                if (!claimed.compareAndSet(false, true)) {
                    break; // queued and already running despite the exception: the task owns the slot
                }
                cause = rejected;
                refused = refused == null ? new ArrayList<>() : refused;
                refused.addAll(toRun);
                if (group == null) {
                    break;
                }
                BatchQueue.Drain<K, V> next = releaseAndDrain(group);
                if (next.expired != null) {
                    expired = expired == null ? new ArrayList<>() : expired;
                    expired.addAll(next.expired);
                }
                batch = next.batch;
            }
        }
        if (refused != null) {
            SQLException e = new SQLException(name + " - could not start a batch (" + cause + "); its requests "
                    + "were not executed", "HY000", cause);
            refused.forEach(r -> fail(r, e));
        }
        failExpired(expired);
    }

    /**
     * Runs one batch, releases its slot (starting the next batch), and only then completes its futures, so
     * callbacks run with no lock and no slot held.
     */
    private void run(BatchQueue<K, V> group, List<Request<K, V>> batch, boolean onCaller) {
        Outcomes<K, V> out = new Outcomes<>(batch);
        boolean interrupted = onCaller && Thread.interrupted(); // shield the others' batch from the caller's interrupt
        BatchRun run = new BatchRun(out, onCaller, group == null ? Priority.CRITICAL : Priority.NORMAL);
        try {
            if (!batch.isEmpty()) {
                // Presized (no rehash for a full batch). The map only finds repeated keys; the list, in the batch's
                // order, carries each key with its requests, so retries and splits never look a key up again.
                Map<K, KeyRequests<K, V>> byKey = new HashMap<>(batch.size() * 4 / 3 + 1);
                List<KeyRequests<K, V>> distinct = new ArrayList<>(batch.size());
                for (Request<K, V> r : batch) {
                    KeyRequests<K, V> fresh = new KeyRequests<>(r);
                    KeyRequests<K, V> same = byKey.putIfAbsent(r.key, fresh);
                    if (same == null) {
                        distinct.add(fresh);
                    } else {
                        same.add(r);
                    }
                }
                counters.size(distinct.size());
                if (metrics != null) {
                    try {
                        metrics.batchExecuted(distinct.size());
                    } catch (RuntimeException | LinkageError e) {
                        LOG.debug("{} - metrics failed in batchExecuted (ignored)", name, e);
                    }
                }
                run.execute(distinct);
            }
        } catch (RuntimeException | Error e) {
            SQLException failure = new SQLException(name + " - batch failed: " + e, "HY000", e);
            for (Request<K, V> r : batch) {
                out.failIfOpen(r, failure);
            }
        } finally {
            try {
                if (group != null) {
                    release(group);
                }
            } finally {
                if (interrupted || run.interrupted || (onCaller && Thread.interrupted())) {
                    Thread.currentThread().interrupt();
                }
                out.complete(this);
            }
        }
    }

    /** Gives back a batch's slot and permit, then starts whatever queued meanwhile. */
    private void release(BatchQueue<K, V> group) {
        start(group, releaseAndDrain(group));
    }

    /** Gives back a slot and its permit and takes the next batch if one is ready; starts nothing. */
    private BatchQueue.Drain<K, V> releaseAndDrain(BatchQueue<K, V> group) {
        group.lock.lock();
        try {
            group.inFlight--;
        } finally {
            group.lock.unlock();
        }
        if (budget != null) {
            budget.release(); // may start other groups' batches; no lock of ours is held
        }
        return drainNow(group);
    }

    /** One batch's execution: retries, splits and the outcomes they collect. */
    private final class BatchRun {
        final Outcomes<K, V> out;
        final boolean onCaller;
        final Priority priority;
        boolean interrupted;
        /** The earliest deadline among the live requests of the keys the last {@link #dropExpired} kept. */
        long earliestLive;

        BatchRun(Outcomes<K, V> out, boolean onCaller, Priority priority) {
            this.out = out;
            this.onCaller = onCaller;
            this.priority = priority;
        }

        /** Executes keys, retrying and splitting on failure; records an outcome for every live request. */
        void execute(List<KeyRequests<K, V>> keys) {
            SQLException last = null;
            for (int attempt = 0; ; attempt++) {
                long now = ticker.read();
                keys = dropExpired(keys, now, last); // also finds the earliest live deadline
                if (keys.isEmpty()) {
                    return;
                }
                long remaining = earliestLive - now;
                counters.executions.increment();
                Map<K, V> result;
                try {
                    result = function.apply(keysOf(keys), remaining, priority);
                } catch (SQLException e) {
                    last = e;
                    boolean byInterrupt = onCaller && Thread.interrupted();
                    interrupted |= byInterrupt;
                    ErrorPolicy.Action action = byInterrupt && reads ? ErrorPolicy.Action.RETRY : policy.classify(e);
                    if (action == ErrorPolicy.Action.RETRY && attempt < maxRetries
                            && backOff(attempt, earliestDeadline(keys))) {
                        counters.retries.increment();
                        continue;
                    }
                    if (action == ErrorPolicy.Action.SPLIT && keys.size() > 1) {
                        split(keys);
                        return;
                    }
                    failAll(keys, action == ErrorPolicy.Action.UNKNOWN_OUTCOME ? unknown(e) : e);
                    return;
                } catch (RuntimeException e) {
                    // User code inside the batch function (a binder, a row reader) threw: isolate it like a row.
                    if (keys.size() > 1) {
                        split(keys);
                    } else {
                        failAll(keys, new SQLException(name + " - the batch function threw " + e, "HY000",
                                e));
                    }
                    return;
                }
                Map<K, SQLException> failures = result instanceof KeyedResult<K, V> keyed ? keyed.failures() : Map.of();
                for (KeyRequests<K, V> key : keys) {
                    SQLException failure = failures.isEmpty() ? null : failures.get(key.key);
                    V value = failure != null || result == null ? null : result.get(key.key);
                    for (Request<K, V> r : key.requests) {
                        if (failure != null) {
                            out.fail(r, failure);
                        } else {
                            out.succeed(r, value);
                        }
                    }
                }
                return;
            }
        }

        private void split(List<KeyRequests<K, V>> keys) {
            counters.splits.increment();
            int half = keys.size() / 2;
            execute(new ArrayList<>(keys.subList(0, half)));
            execute(new ArrayList<>(keys.subList(half, keys.size())));
        }

        private void failAll(List<KeyRequests<K, V>> keys, SQLException e) {
            SQLException shown = keys.size() == 1 || e instanceof OutcomeUnknownException ? e
                    : new SQLException(name + " - batch of " + keys.size() + " keys failed: " + e.getMessage(),
                            e.getSQLState(), e.getErrorCode(), e);
            for (KeyRequests<K, V> key : keys) {
                for (Request<K, V> r : key.requests) {
                    if (shown instanceof OutcomeUnknownException) {
                        counters.outcomeUnknown.increment();
                    }
                    out.fail(r, shown);
                }
            }
        }

        private SQLException unknown(SQLException e) {
            return e instanceof OutcomeUnknownException ? e
                    : new OutcomeUnknownException(name + " - the batch's outcome is unknown: " + e.getMessage(), e);
        }

        /**
         * Fails requests past their deadline before an execution (never sent late) and returns the keys that
         * still have a live request.
         */
        private List<KeyRequests<K, V>> dropExpired(List<KeyRequests<K, V>> keys, long now, SQLException last) {
            List<KeyRequests<K, V>> live = null;
            boolean anyDeadline = false;
            for (int i = 0; i < keys.size(); i++) {
                KeyRequests<K, V> key = keys.get(i);
                boolean anyLive = false;
                for (Request<K, V> r : key.requests) {
                    if (out.isOpen(r) && now - r.deadline >= 0) {
                        counters.timedOut.increment();
                        SQLTimeoutException t = new SQLTimeoutException(name + " - request timed out before "
                                + (last == null ? "it was executed; not executed"
                                        : "a retry; the failed attempts were rolled back. Last error: "
                                                + last.getMessage()), "HYT00");
                        if (last != null) {
                            t.initCause(last);
                        }
                        out.fail(r, t);
                    } else if (out.isOpen(r)) {
                        anyLive = true;
                        if (!anyDeadline || r.deadline - earliestLive < 0) {
                            earliestLive = r.deadline;
                            anyDeadline = true;
                        }
                    }
                }
                if (!anyLive && live == null) {
                    live = new ArrayList<>(keys.subList(0, i));
                } else if (anyLive && live != null) {
                    live.add(key);
                }
            }
            return live == null ? keys : live;
        }

        private long earliestDeadline(List<KeyRequests<K, V>> keys) {
            long earliest = Long.MAX_VALUE;
            boolean any = false;
            for (KeyRequests<K, V> key : keys) {
                for (Request<K, V> r : key.requests) {
                    if (out.isOpen(r) && (!any || r.deadline - earliest < 0)) {
                        earliest = r.deadline;
                        any = true;
                    }
                }
            }
            return earliest;
        }

        /**
         * Sleeps 5 ms × 2^attempt with ±50% jitter (so two batches that deadlocked do not retry in lockstep),
         * ignoring interrupts (remembered and restored). False if that would pass the earliest deadline.
         */
        private boolean backOff(int attempt, long earliestDeadline) {
            long base = RETRY_BACKOFF_NANOS << Math.min(attempt, 20);
            long sleep = base / 2 + ThreadLocalRandom.current().nextLong(base);
            long until = ticker.read() + sleep;
            if (earliestDeadline - until <= 0) {
                return false;
            }
            long end = System.nanoTime() + sleep;
            for (long left = sleep; left > 0; left = end - System.nanoTime()) {
                LockSupport.parkNanos(left);
                if (Thread.interrupted()) {
                    interrupted = true;
                }
            }
            return true;
        }
    }

    /** A distinct key of a batch and the requests that asked for it: one, unless callers repeated the key. */
    private static final class KeyRequests<K, V> {
        final K key;
        List<Request<K, V>> requests;

        KeyRequests(Request<K, V> first) {
            this.key = first.key;
            this.requests = List.of(first);
        }

        void add(Request<K, V> r) {
            if (requests.size() == 1) {
                List<Request<K, V>> more = new ArrayList<>(2);
                more.add(requests.get(0));
                requests = more;
            }
            requests.add(r);
        }
    }

    private static <K, V> List<K> keysOf(List<KeyRequests<K, V>> keys) {
        List<K> out = new ArrayList<>(keys.size());
        for (KeyRequests<K, V> k : keys) {
            out.add(k.key);
        }
        return out;
    }

    void fail(Request<K, V> request, SQLException e) {
        if (request.future.completeExceptionally(e)) {
            counters.failed.increment();
        }
    }

    @Override
    public String toString() {
        return "Batcher{" + name + ", enabled=" + enabled + ", " + stats() + "}";
    }
}
