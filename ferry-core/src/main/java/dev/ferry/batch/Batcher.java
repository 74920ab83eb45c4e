package dev.ferry.batch;

import dev.ferry.Priority;
import dev.ferry.Scheduler;
import dev.ferry.Ticker;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Coalesces concurrent requests into batches: callers submit one key each and get a future; the batcher sends
 * many keys in one call of a {@link BatchFunction}.
 *
 * <h2>Design notes</h2>
 *
 * <p><b>Natural batching.</b> There is no timer floor. A group may have up to {@code maxInFlight} batches
 * executing (by default the pool's size: one per connection). When a request arrives and a slot is free it is
 * sent at once, alone. When all slots are busy, requests queue; the moment a batch completes, its slot takes
 * everything queued (up to {@code maxBatchSize}) and sends it. So an idle system adds no latency, and under load
 * batches grow by themselves to match the arrival rate: the busier the database, the bigger the batches.
 * (java-dataloader needs a manual dispatch or a polling window; a fixed 100–500 ms window puts that delay under
 * every request.)
 *
 * <p><b>Linger</b> (off by default) is for users who prefer fewer round trips to low latency: a batch then waits
 * until it holds {@code minBatch} requests or its oldest request has waited {@code linger}, whichever is first.
 *
 * <p><b>Groups.</b> Requests are queued per group key (for example statement and tenant), and a batch only ever
 * holds one group's keys. Identical keys in a batch are sent once and every caller gets the result.
 *
 * <p><b>Deadlines.</b> Every request has a deadline ({@code timeout} after submission, read from the injected
 * {@link Ticker}). A request whose deadline passes while queued fails with {@link SQLTimeoutException} and is
 * never executed late: expired requests are dropped when a batch is drained, and a sweep scheduled on the
 * injected {@link Scheduler} fails them on time even if no batch is drained.
 *
 * <p><b>Bounded queue.</b> At most {@code maxQueued} requests wait per group; beyond that a submit is rejected at
 * once or blocks until there is room ({@link OverflowPolicy}).
 *
 * <p><b>Error isolation.</b> If a batch fails as a whole: serialization failures and deadlocks (40001, 40P01)
 * and, where enabled, connection faults (class 08) are retried with exponential backoff up to
 * {@code maxRetries}; any other error splits the batch in two and each half is retried, recursively, so good keys
 * succeed and each bad key fails with its own error (k bad keys among n cost about 2k·log2(n) extra calls).
 *
 * <p><b>Priority bypass and kill switch.</b> A {@link Priority#CRITICAL} request skips the queue and the
 * in-flight limit and runs alone at once. {@link #setEnabled(boolean) setEnabled(false)} makes every request
 * go alone through the same path, as the fallback when batching is suspected of a problem.
 *
 * <p><b>Concurrency.</b> Each group has a {@link ReentrantLock} held only to move requests between the queue and
 * a batch; batch functions run on the executor (virtual threads on JDK 21+), never under a lock.
 */
public final class Batcher<K, V> implements AutoCloseable {

    private static final Object SINGLE_GROUP = new Object();
    private static final long RETRY_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final String name;
    private final BatchFunction<K, V> function;
    private final Function<? super K, ?> groupBy;
    private final int maxBatchSize;
    private final int maxInFlight;
    private final int maxQueued;
    private final int minBatch;
    private final long lingerNanos;
    private final long timeoutNanos;
    private final int maxRetries;
    private final boolean retryConnectionFaults;
    private final OverflowPolicy overflow;
    private final Ticker ticker;
    private final Scheduler scheduler;
    private final ScheduledThreadPoolExecutor ownScheduler;
    private final Executor executor;
    private final ExecutorService ownExecutor;
    private final ConcurrentHashMap<Object, Group> groups = new ConcurrentHashMap<>();
    private final Counters counters = new Counters();
    private volatile boolean enabled = true;
    private volatile boolean closed;

    private Batcher(Builder<K, V> b) {
        this.name = b.name;
        this.function = b.function;
        this.groupBy = b.groupBy;
        this.maxBatchSize = b.maxBatchSize;
        this.maxInFlight = b.maxInFlight;
        this.maxQueued = b.maxQueued;
        this.minBatch = b.minBatch;
        this.lingerNanos = b.linger.toNanos();
        this.timeoutNanos = b.timeout.toNanos();
        this.maxRetries = b.maxRetries;
        this.retryConnectionFaults = b.retryConnectionFaults;
        this.overflow = b.overflow;
        this.ticker = b.ticker;
        if (b.scheduler != null) {
            this.scheduler = b.scheduler;
            this.ownScheduler = null;
        } else {
            this.ownScheduler = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, name + "-timer");
                t.setDaemon(true);
                return t;
            });
            this.ownScheduler.setRemoveOnCancelPolicy(true);
            this.scheduler = (task, delay) -> ownScheduler.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
        }
        if (b.executor != null) {
            this.executor = b.executor;
            this.ownExecutor = null;
        } else {
            this.ownExecutor = defaultExecutor(name);
            this.executor = ownExecutor;
        }
    }

    /** A builder for a batcher that runs batches with {@code function}. */
    public static <K, V> Builder<K, V> builder(BatchFunction<K, V> function) {
        return new Builder<>(function);
    }

    /** Submits a normal-priority request. */
    public CompletableFuture<V> submit(K key) {
        return submit(key, Priority.NORMAL);
    }

    /**
     * Submits a request. The future completes with the key's value after its batch ran, or fails with an
     * {@link SQLException}: the key's own error, a timeout, a rejection or the batcher's closing.
     */
    public CompletableFuture<V> submit(K key, Priority priority) {
        return enqueue(key, priority, false);
    }

    /**
     * Submits and waits, like {@link #get}, but runs the batch on the calling thread when an in-flight slot is
     * free (the caller would only wait otherwise): no hand-off to another thread and back, which is most of the
     * cost of a batched request on an idle system. The batch it runs also carries whatever else was queued.
     */
    public V call(K key, Priority priority) throws SQLException {
        return await(enqueue(key, priority, true));
    }

    private CompletableFuture<V> enqueue(K key, Priority priority, boolean callerRuns) {
        Objects.requireNonNull(key, "key");
        long now = ticker.read();
        Request<K, V> request = new Request<>(key, now, now + timeoutNanos);
        counters.requests.increment();
        if (closed) {
            fail(request, new SQLException(name + " - batcher is closed", "08003"));
            return request.future;
        }
        Group group = groups.computeIfAbsent(groupBy == null ? SINGLE_GROUP : groupBy.apply(key), g -> new Group());
        if (priority == Priority.CRITICAL) {
            List<Request<K, V>> alone = List.of(request);
            counters.sent(FlushReason.CRITICAL, 0);
            if (callerRuns) {
                execute(null, alone);
            } else {
                executor.execute(() -> execute(null, alone));
            }
            return request.future;
        }
        List<Request<K, V>> batch;
        group.lock.lock();
        try {
            if (group.queue.size() >= maxQueued && !waitForRoom(group, request)) {
                return request.future;
            }
            group.queue.addLast(request);
            batch = drainIfReady(group, now);
            if (batch == null) {
                armTimers(group, now);
            }
        } finally {
            group.lock.unlock();
        }
        if (batch != null) {
            if (callerRuns) {
                execute(group, batch);
            } else {
                dispatch(group, batch);
            }
        }
        return request.future;
    }

    /**
     * Submits and waits: the key's value, or the request's {@link SQLException}. The batch runs on the calling
     * thread when a slot is free (see {@link #call}).
     *
     * @throws SQLException the key's error, a timeout, a rejection, or an interrupt (as SQLException)
     */
    public V get(K key) throws SQLException {
        return call(key, Priority.NORMAL);
    }

    /** Waits for a future from this batcher and unwraps its SQLException. */
    public static <V> V await(CompletableFuture<V> future) throws SQLException {
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SQLException) {
                throw (SQLException) e.getCause();
            }
            throw new SQLException(e.getCause().toString(), "HY000", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for a batched request", "HY008", e);
        }
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

    /** Requests queued now, over all groups. */
    public int queued() {
        int n = 0;
        for (Group g : groups.values()) {
            g.lock.lock();
            try {
                n += g.queue.size();
            } finally {
                g.lock.unlock();
            }
        }
        return n;
    }

    /** Fails every queued request and refuses new ones; batches already running finish. */
    @Override
    public void close() {
        closed = true;
        for (Group g : groups.values()) {
            List<Request<K, V>> dropped;
            g.lock.lock();
            try {
                dropped = new ArrayList<>(g.queue);
                g.queue.clear();
                g.notFull.signalAll();
            } finally {
                g.lock.unlock();
            }
            for (Request<K, V> r : dropped) {
                fail(r, new SQLException(name + " - batcher closed before the request was sent", "08003"));
            }
        }
        if (ownScheduler != null) {
            ownScheduler.shutdownNow();
        }
        if (ownExecutor != null) {
            ownExecutor.shutdown();
        }
    }

    // ---------------------------------------------------------------- queueing (under the group lock)

    /** Blocks for room (BLOCK) or rejects (REJECT); false if the request was failed. Lock held. */
    private boolean waitForRoom(Group group, Request<K, V> request) {
        if (overflow == OverflowPolicy.REJECT) {
            counters.rejected.increment();
            fail(request, new SQLTransientException(name + " - batch queue is full (" + maxQueued
                    + " requests queued, maxQueued=" + maxQueued + "); request rejected", "53000"));
            return false;
        }
        long remaining = timeoutNanos;
        try {
            while (group.queue.size() >= maxQueued && !closed) {
                if (remaining <= 0) {
                    counters.rejected.increment();
                    fail(request, new SQLTimeoutException(name + " - batch queue stayed full (maxQueued="
                            + maxQueued + ") for the request's whole timeout ("
                            + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + "ms)", "HYT00"));
                    return false;
                }
                remaining = group.notFull.awaitNanos(remaining);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            counters.rejected.increment();
            fail(request, new SQLException(name + " - interrupted while waiting for room in the batch queue",
                    "HY008", e));
            return false;
        }
        if (closed) {
            fail(request, new SQLException(name + " - batcher is closed", "08003"));
            return false;
        }
        return true;
    }

    /**
     * Takes the next batch if a slot is free and the linger rule allows it; counts the slot as taken. Expired
     * requests found on the way are failed, never sent. Lock held.
     */
    private List<Request<K, V>> drainIfReady(Group group, long now) {
        dropExpired(group, now);
        if (group.queue.isEmpty() || group.inFlight >= maxInFlight) {
            return null;
        }
        boolean on = enabled;
        int cap = on ? maxBatchSize : 1;
        FlushReason reason;
        if (!on) {
            reason = FlushReason.DISABLED;
        } else if (group.queue.size() >= cap) {
            reason = FlushReason.FULL;
        } else if (lingerNanos > 0) {
            if (group.queue.size() >= minBatch) {
                reason = FlushReason.MIN_BATCH;
            } else if (now - group.queue.peekFirst().enqueuedAt >= lingerNanos) {
                reason = FlushReason.LINGER;
            } else {
                return null; // keep filling; the linger timer will come back
            }
        } else {
            reason = FlushReason.NATURAL;
        }
        List<Request<K, V>> batch = new ArrayList<>(Math.min(cap, group.queue.size()));
        long waited = 0;
        long maxWaited = 0;
        while (batch.size() < cap && !group.queue.isEmpty()) {
            Request<K, V> r = group.queue.pollFirst();
            long w = now - r.enqueuedAt;
            waited += w;
            maxWaited = Math.max(maxWaited, w);
            batch.add(r);
        }
        group.inFlight++;
        group.notFull.signalAll();
        counters.sent(reason, waited);
        counters.maxWait(maxWaited);
        return batch;
    }

    /** Fails queued requests past their deadline (they sit at the head: deadlines follow arrival). Lock held. */
    private void dropExpired(Group group, long now) {
        Request<K, V> head;
        while ((head = group.queue.peekFirst()) != null && now - head.deadline >= 0) {
            group.queue.pollFirst();
            counters.timedOut.increment();
            group.notFull.signalAll();
            fail(head, new SQLTimeoutException(name + " - request timed out after "
                    + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + "ms in the batch queue and was not executed "
                    + "(" + group.queue.size() + " still queued, " + group.inFlight + " batches in flight)",
                    "HYT00"));
        }
    }

    /** Arms the deadline sweep and, with linger, the linger timer for the queue's head. Lock held. */
    private void armTimers(Group group, long now) {
        Request<K, V> head = group.queue.peekFirst();
        if (head == null) {
            return;
        }
        long due = head.deadline;
        if (lingerNanos > 0 && group.inFlight < maxInFlight) {
            due = Math.min(due, head.enqueuedAt + lingerNanos);
        }
        if (group.timer != null && group.timerDue - due <= 0) {
            return; // an earlier (or equal) timer is already armed
        }
        if (group.timer != null) {
            group.timer.cancel(false);
        }
        group.timerDue = due;
        group.timer = scheduler.schedule(() -> onTimer(group), Duration.ofNanos(Math.max(0, due - now)));
    }

    private void onTimer(Group group) {
        List<Request<K, V>> batch;
        group.lock.lock();
        try {
            group.timer = null;
            long now = ticker.read();
            batch = drainIfReady(group, now);
            armTimers(group, now);
        } finally {
            group.lock.unlock();
        }
        if (batch != null) {
            dispatch(group, batch);
        }
    }

    // ---------------------------------------------------------------- execution (no lock held)

    private void dispatch(Group group, List<Request<K, V>> batch) {
        try {
            executor.execute(() -> execute(group, batch));
        } catch (RuntimeException rejected) {
            SQLException e = new SQLException(name + " - could not start a batch: " + rejected, "HY000", rejected);
            batch.forEach(r -> fail(r, e));
            release(group);
        }
    }

    /** Runs one batch, then hands the slot to whatever queued meanwhile. */
    private void execute(Group group, List<Request<K, V>> batch) {
        try {
            Map<K, List<Request<K, V>>> byKey = new LinkedHashMap<>();
            for (Request<K, V> r : batch) {
                byKey.computeIfAbsent(r.key, k -> new ArrayList<>(1)).add(r);
            }
            counters.size(byKey.size());
            runIsolated(new ArrayList<>(byKey.keySet()), byKey);
        } catch (RuntimeException | Error e) {
            SQLException failure = new SQLException(name + " - batch function threw " + e, "HY000", e);
            batch.forEach(r -> fail(r, failure));
        } finally {
            if (group != null) {
                release(group);
            }
        }
    }

    private void release(Group group) {
        List<Request<K, V>> next;
        group.lock.lock();
        try {
            group.inFlight--;
            long now = ticker.read();
            next = drainIfReady(group, now);
            armTimers(group, now);
        } finally {
            group.lock.unlock();
        }
        if (next != null) {
            dispatch(group, next);
        }
    }

    /** Executes keys, retrying and bisecting on failure, and completes every request of every key. */
    private void runIsolated(List<K> keys, Map<K, List<Request<K, V>>> byKey) {
        for (int attempt = 0; ; attempt++) {
            counters.executions.increment();
            Map<K, V> result;
            try {
                result = function.apply(keys);
            } catch (SQLException e) {
                if (attempt < maxRetries && isRetryable(e)) {
                    counters.retries.increment();
                    LockSupport.parkNanos(RETRY_BACKOFF_NANOS << attempt);
                    continue;
                }
                if (keys.size() > 1 && !ErrorKinds.isConnectionFault(e)) {
                    counters.splits.increment();
                    int half = keys.size() / 2;
                    runIsolated(new ArrayList<>(keys.subList(0, half)), byKey);
                    runIsolated(new ArrayList<>(keys.subList(half, keys.size())), byKey);
                    return;
                }
                for (K key : keys) {
                    for (Request<K, V> r : byKey.get(key)) {
                        fail(r, keys.size() == 1 ? e : new SQLException(name + " - batch of " + keys.size()
                                + " keys failed: " + e.getMessage(), e.getSQLState(), e.getErrorCode(), e));
                    }
                }
                return;
            }
            for (K key : keys) {
                V value = result == null ? null : result.get(key);
                for (Request<K, V> r : byKey.get(key)) {
                    r.future.complete(value);
                }
            }
            return;
        }
    }

    private boolean isRetryable(SQLException e) {
        return ErrorKinds.isSerializationFailure(e) || (retryConnectionFaults && ErrorKinds.isConnectionFault(e));
    }

    private void fail(Request<K, V> request, SQLException e) {
        if (request.future.completeExceptionally(e)) {
            counters.failed.increment();
        }
    }

    private static ExecutorService defaultExecutor(String name) {
        try {
            return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (ReflectiveOperationException e) {
            return Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, name + "-batch");
                t.setDaemon(true);
                return t;
            });
        }
    }

    @Override
    public String toString() {
        return "Batcher{" + name + ", enabled=" + enabled + ", " + stats() + "}";
    }

    // ---------------------------------------------------------------- parts

    private static final class Request<K, V> {
        final K key;
        final long enqueuedAt;
        final long deadline;
        final CompletableFuture<V> future = new CompletableFuture<>();

        Request(K key, long enqueuedAt, long deadline) {
            this.key = key;
            this.enqueuedAt = enqueuedAt;
            this.deadline = deadline;
        }
    }

    private final class Group {
        final ReentrantLock lock = new ReentrantLock();
        final Condition notFull = lock.newCondition();
        final ArrayDeque<Request<K, V>> queue = new ArrayDeque<>();
        int inFlight;
        Future<?> timer;
        long timerDue;
    }

    private static final class Counters {
        final LongAdder requests = new LongAdder();
        final LongAdder batches = new LongAdder();
        final LongAdder executions = new LongAdder();
        final LongAdder rejected = new LongAdder();
        final LongAdder timedOut = new LongAdder();
        final LongAdder retries = new LongAdder();
        final LongAdder splits = new LongAdder();
        final LongAdder failed = new LongAdder();
        final LongAdder queueWait = new LongAdder();
        final AtomicLong maxQueueWait = new AtomicLong();
        final LongAdder[] sizes = new LongAdder[32];
        final EnumMap<FlushReason, LongAdder> reasons = new EnumMap<>(FlushReason.class);

        Counters() {
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = new LongAdder();
            }
            for (FlushReason r : FlushReason.values()) {
                reasons.put(r, new LongAdder());
            }
        }

        void sent(FlushReason reason, long waitedNanos) {
            batches.increment();
            reasons.get(reason).increment();
            queueWait.add(waitedNanos);
        }

        /** Records a batch's size in distinct keys, once it is known (duplicates are folded at execution). */
        void size(int distinctKeys) {
            sizes[31 - Integer.numberOfLeadingZeros(Math.max(1, distinctKeys))].increment();
        }

        void maxWait(long nanos) {
            maxQueueWait.accumulateAndGet(nanos, Math::max);
        }

        BatchStats snapshot() {
            Map<Integer, Long> histogram = new TreeMap<>();
            for (int i = 0; i < sizes.length; i++) {
                long n = sizes[i].sum();
                if (n > 0) {
                    histogram.put(1 << i, n);
                }
            }
            Map<FlushReason, Long> byReason = new EnumMap<>(FlushReason.class);
            reasons.forEach((r, n) -> byReason.put(r, n.sum()));
            return new BatchStats(requests.sum(), batches.sum(), executions.sum(), histogram, byReason,
                    rejected.sum(), timedOut.sum(), retries.sum(), splits.sum(), failed.sum(), queueWait.sum(),
                    maxQueueWait.get());
        }
    }

    /**
     * Batcher settings; {@link #build()} validates them, naming the setting, the value and what is allowed.
     */
    public static final class Builder<K, V> {
        private final BatchFunction<K, V> function;
        private String name = "batcher";
        private Function<? super K, ?> groupBy;
        private int maxBatchSize = 100;
        private int maxInFlight = 10;
        private int maxQueued = 10_000;
        private int minBatch = 1;
        private Duration linger = Duration.ZERO;
        private Duration timeout = Duration.ofSeconds(30);
        private int maxRetries = 3;
        private boolean retryConnectionFaults;
        private OverflowPolicy overflow = OverflowPolicy.REJECT;
        private Ticker ticker = Ticker.system();
        private Scheduler scheduler;
        private Executor executor;

        private Builder(BatchFunction<K, V> function) {
            this.function = Objects.requireNonNull(function, "function");
        }

        public Builder<K, V> name(String name) {
            this.name = name;
            return this;
        }

        /** Queues and batches requests separately per group key (for example tenant or role). */
        public Builder<K, V> groupBy(Function<? super K, ?> groupBy) {
            this.groupBy = groupBy;
            return this;
        }

        /** Most distinct keys in one batch (default 100). */
        public Builder<K, V> maxBatchSize(int maxBatchSize) {
            this.maxBatchSize = maxBatchSize;
            return this;
        }

        /** Batches executing at once per group (default 10; the JDBC helpers use the pool's size). */
        public Builder<K, V> maxInFlight(int maxInFlight) {
            this.maxInFlight = maxInFlight;
            return this;
        }

        /** Requests allowed to wait per group (default 10,000). */
        public Builder<K, V> maxQueued(int maxQueued) {
            this.maxQueued = maxQueued;
            return this;
        }

        public Builder<K, V> overflow(OverflowPolicy overflow) {
            this.overflow = overflow;
            return this;
        }

        /**
         * Opt-in latency for fewer round trips: hold a batch until it has {@code minBatch} requests or its oldest
         * has waited {@code linger}. Off (zero) by default.
         */
        public Builder<K, V> linger(Duration linger, int minBatch) {
            this.linger = linger;
            this.minBatch = minBatch;
            return this;
        }

        /** How long a request may wait before it fails unexecuted (default 30 s). */
        public Builder<K, V> timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** Re-executions after 40001/40P01 (and connection faults, if enabled); default 3. */
        public Builder<K, V> maxRetries(int maxRetries) {
            this.maxRetries = maxRetries;
            return this;
        }

        /**
         * Whether connection faults are retried: right for reads, and for writes whose transaction certainly did
         * not commit. Off by default, because a connection lost during COMMIT leaves the outcome unknown.
         */
        public Builder<K, V> retryConnectionFaults(boolean retry) {
            this.retryConnectionFaults = retry;
            return this;
        }

        public Builder<K, V> ticker(Ticker ticker) {
            this.ticker = ticker;
            return this;
        }

        public Builder<K, V> scheduler(Scheduler scheduler) {
            this.scheduler = scheduler;
            return this;
        }

        /** Where batches run; by default a virtual thread per batch (JDK 21+) or a cached thread pool. */
        public Builder<K, V> executor(Executor executor) {
            this.executor = executor;
            return this;
        }

        public Batcher<K, V> build() {
            require("maxBatchSize", maxBatchSize, maxBatchSize >= 1, "at least 1");
            require("maxInFlight", maxInFlight, maxInFlight >= 1, "at least 1");
            require("maxQueued", maxQueued, maxQueued >= 1, "at least 1");
            require("timeout", timeout, timeout != null && !timeout.isNegative() && !timeout.isZero(),
                    "a positive duration");
            require("linger", linger, linger != null && !linger.isNegative(), "0 (off) or a positive duration");
            require("minBatch", minBatch, minBatch >= 1 && minBatch <= maxBatchSize,
                    "1 to maxBatchSize (" + maxBatchSize + ")");
            require("maxRetries", maxRetries, maxRetries >= 0, "0 or more");
            require("name", name, name != null && !name.isBlank(), "a non-blank name");
            Objects.requireNonNull(overflow, "overflow");
            Objects.requireNonNull(ticker, "ticker");
            return new Batcher<>(this);
        }

        private static void require(String setting, Object value, boolean ok, String allowed) {
            if (!ok) {
                throw new IllegalArgumentException(setting + ": got " + value + "; allowed: " + allowed);
            }
        }
    }
}
