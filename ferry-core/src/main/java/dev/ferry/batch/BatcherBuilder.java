package dev.ferry.batch;

import dev.ferry.Scheduler;
import dev.ferry.Ticker;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Batcher settings; {@link #build()} validates them, naming the setting, the value and what is allowed.
 */
public final class BatcherBuilder<K, V> {
    String name = "batcher";
    BatchCall<K, V> call;
    Function<? super K, ?> groupBy;
    int maxBatchSize = 100;
    int maxInFlight = 10;
    int maxQueued = 10_000;
    int minBatch = 1;
    Duration linger = Duration.ZERO;
    Duration timeout = Duration.ofSeconds(30);
    int maxRetries = 3;
    boolean reads;
    boolean callerRuns;
    Predicate<SQLException> rowError;
    InFlightBudget budget;
    OverflowPolicy overflow = OverflowPolicy.REJECT;
    Ticker ticker = Ticker.system();
    dev.ferry.observe.MetricsTrackerFactory metrics;
    private Scheduler scheduler;
    private Executor executor;

    BatcherBuilder(BatchFunction<K, V> function) {
        Objects.requireNonNull(function, "function");
        this.call = (keys, remaining, priority) -> function.apply(keys);
    }

    /**
     * For the JDBC helpers: a function told the time left; whether its batches only read (connection faults
     * retried); whether a blocked caller may run a batch itself (reads only, see {@link Batcher}).
     */
    BatcherBuilder(BatchCall<K, V> call, boolean reads, boolean callerRuns) {
        this.call = Objects.requireNonNull(call, "call");
        this.reads = reads;
        this.callerRuns = callerRuns && reads;
    }

    /** For the JDBC helpers: the in-flight budget shared by every batcher on one data source. */
    BatcherBuilder<K, V> budget(InFlightBudget budget) {
        this.budget = budget;
        return this;
    }

    public BatcherBuilder<K, V> name(String name) {
        this.name = name;
        return this;
    }

    /**
     * Reports this batcher's figures to a metrics system (for example ferry-micrometer's factory). Batched
     * lookups and writers built on a Ferry pool report to the pool's factory without this.
     */
    public BatcherBuilder<K, V> metrics(dev.ferry.observe.MetricsTrackerFactory factory) {
        this.metrics = factory;
        return this;
    }

    /** Queues and batches requests separately per group key (for example tenant or role). */
    public BatcherBuilder<K, V> groupBy(Function<? super K, ?> groupBy) {
        this.groupBy = groupBy;
        return this;
    }

    /** Most distinct keys in one batch (default 100). */
    public BatcherBuilder<K, V> maxBatchSize(int maxBatchSize) {
        this.maxBatchSize = maxBatchSize;
        return this;
    }

    /** Batches executing at once per group (default 10; the JDBC helpers use the pool's size). */
    public BatcherBuilder<K, V> maxInFlight(int maxInFlight) {
        this.maxInFlight = maxInFlight;
        return this;
    }

    /** Requests allowed to wait per group (default 10,000). */
    public BatcherBuilder<K, V> maxQueued(int maxQueued) {
        this.maxQueued = maxQueued;
        return this;
    }

    public BatcherBuilder<K, V> overflow(OverflowPolicy overflow) {
        this.overflow = overflow;
        return this;
    }

    /**
     * Opt-in latency for fewer round trips: hold a batch until it has {@code minBatch} requests or its oldest
     * has waited {@code linger}. Off (zero) by default.
     */
    public BatcherBuilder<K, V> linger(Duration linger, int minBatch) {
        this.linger = linger;
        this.minBatch = minBatch;
        return this;
    }

    /**
     * A request's deadline after submission (default 30 s): never sent after it, and failed at it while queued.
     * Once sent, it completes when its batch ends, so a batch function must bound its own work.
     */
    public BatcherBuilder<K, V> timeout(Duration timeout) {
        this.timeout = timeout;
        return this;
    }

    /** Re-executions after 40001/40P01 (and connection faults, for reads); default 3. */
    public BatcherBuilder<K, V> maxRetries(int maxRetries) {
        this.maxRetries = maxRetries;
        return this;
    }

    /**
     * Whether the batch function only reads: then connection faults are retried, and a blocked caller on a
     * platform thread may run the batch itself. Off by default (a write's COMMIT may have happened).
     */
    public BatcherBuilder<K, V> retryConnectionFaults(boolean reads) {
        this.reads = reads;
        this.callerRuns = reads;
        return this;
    }

    /**
     * Which errors, beyond data exceptions (22xxx) and integrity violations (23xxx), belong to one key, so that
     * splitting the batch isolates them. Everything else fails the whole batch at once.
     */
    public BatcherBuilder<K, V> rowError(Predicate<SQLException> rowError) {
        this.rowError = rowError;
        return this;
    }

    public BatcherBuilder<K, V> ticker(Ticker ticker) {
        this.ticker = ticker;
        return this;
    }

    public BatcherBuilder<K, V> scheduler(Scheduler scheduler) {
        this.scheduler = scheduler;
        return this;
    }

    /** Where batches run; by default a virtual thread per batch (JDK 21+) or a cached thread pool. */
    public BatcherBuilder<K, V> executor(Executor executor) {
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
        Scheduler s = scheduler;
        ScheduledThreadPoolExecutor ownScheduler = null;
        if (s == null) {
            String threadName = name + "-timer";
            ScheduledThreadPoolExecutor own = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, threadName);
                t.setDaemon(true);
                return t;
            });
            own.setRemoveOnCancelPolicy(true);
            ownScheduler = own;
            s = (task, delay) -> own.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
        }
        Executor e = executor;
        ExecutorService ownExecutor = null;
        if (e == null) {
            ownExecutor = defaultExecutor(name);
            e = ownExecutor;
        }
        return new Batcher<>(this, s, ownScheduler, e, ownExecutor);
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

    static void require(String setting, Object value, boolean ok, String allowed) {
        if (!ok) {
            throw new IllegalArgumentException(setting + ": got " + value + "; allowed: " + allowed);
        }
    }
}
