package dev.ferry.batch;

import dev.ferry.FerryDataSource;
import dev.ferry.FerryPool;
import dev.ferry.Priority;
import dev.ferry.Scheduler;
import dev.ferry.Ticker;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.function.IntSupplier;
import java.util.function.Predicate;
import javax.sql.DataSource;

/**
 * The batching settings shared by the JDBC helpers' builders ({@link BatchedLookup.Builder},
 * {@link BatchedWriter.Builder}); see {@link Batcher} for what each does. {@code B} is the concrete builder, so
 * the setters chain.
 */
public abstract class BatchSettings<B extends BatchSettings<B>> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BatchSettings.class);

    final DataSource dataSource;
    private Integer maxInFlight;
    private int maxBatchSize;
    private int maxQueued = 10_000;
    private int maxRetries = 3;
    private Duration timeout = Duration.ofSeconds(30);
    private Duration linger = Duration.ZERO;
    private int minBatch = 1;
    private Ticker ticker = Ticker.system();
    private Scheduler scheduler;
    private Executor executor;
    private String name;
    private Predicate<SQLException> rowError;

    BatchSettings(DataSource dataSource, int defaultBatchSize) {
        this.dataSource = java.util.Objects.requireNonNull(dataSource, "dataSource");
        this.maxBatchSize = defaultBatchSize;
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /**
     * Batches of this helper running at once; default: the pool's maximumPoolSize. Whatever is set, all helpers
     * built on one data source together run at most maximumPoolSize batches (10 for other data sources).
     */
    public B maxInFlight(int maxInFlight) {
        this.maxInFlight = maxInFlight;
        return self();
    }

    /** Most requests per batch. */
    public B maxBatchSize(int maxBatchSize) {
        this.maxBatchSize = maxBatchSize;
        return self();
    }

    /** Requests allowed to wait (default 10,000); beyond it a request is rejected at once. */
    public B maxQueued(int maxQueued) {
        this.maxQueued = maxQueued;
        return self();
    }

    /**
     * Which errors, beyond data exceptions (22xxx) and integrity violations (23xxx), belong to one request, so
     * that splitting a failed batch isolates them. Everything else fails the batch's callers at once.
     */
    public B rowError(Predicate<SQLException> rowError) {
        this.rowError = rowError;
        return self();
    }

    /** Re-executions after serialization failures and deadlocks (default 3). */
    public B maxRetries(int maxRetries) {
        this.maxRetries = maxRetries;
        return self();
    }

    /** How long a request may wait before it fails unexecuted (default 30 s). */
    public B timeout(Duration timeout) {
        this.timeout = timeout;
        return self();
    }

    /** Opt-in: hold a batch until {@code minBatch} requests or {@code linger} has passed. Off by default. */
    public B linger(Duration linger, int minBatch) {
        this.linger = linger;
        this.minBatch = minBatch;
        return self();
    }

    public B ticker(Ticker ticker) {
        this.ticker = ticker;
        return self();
    }

    public B scheduler(Scheduler scheduler) {
        this.scheduler = scheduler;
        return self();
    }

    public B executor(Executor executor) {
        this.executor = executor;
        return self();
    }

    public B name(String name) {
        this.name = name;
        return self();
    }

    /** The name the user gave, or {@code defaultName}: what logs call this batcher. */
    String nameOr(String defaultName) {
        return name != null ? name : defaultName;
    }

    /**
     * A statement timeout, in whole seconds (JDBC's unit), from the time left until the batch's earliest deadline,
     * rounded up: a batch on a hung database fails instead of holding its callers past their deadline.
     */
    static int statementTimeoutSeconds(long remainingNanos) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (remainingNanos + 999_999_999L) / 1_000_000_000L));
    }

    /**
     * A connection for a batch with {@code remainingNanos} left: from a Ferry pool, at the batch's priority and
     * waiting no longer than that; from another data source, as it lends them.
     */
    static Connection connection(DataSource dataSource, long remainingNanos, Priority priority) throws SQLException {
        if (dataSource instanceof FerryDataSource) {
            FerryPool pool = dataSource.unwrap(FerryPool.class);
            return pool.getConnection(priority, Duration.ofNanos(Math.max(0, remainingNanos)));
        }
        if (dataSource instanceof dev.ferry.DataSourceView view) { // reads(), a lane: at the view's own priority
            return view.getConnection(Duration.ofNanos(Math.max(0, remainingNanos)));
        }
        return dataSource.getConnection();
    }

    /** Work on a borrowed connection. */
    @FunctionalInterface
    interface OnConnection<T> {
        T apply(Connection c) throws SQLException;
    }

    /**
     * Runs {@code work} on a connection for a batch with {@code remainingNanos} left. For writes: once the work
     * has returned (its COMMIT is done), a failure to close the connection is logged and never turns the
     * committed batch into a failed one, which the batcher could retry and so write twice.
     */
    static <T> T onConnection(DataSource dataSource, long remainingNanos, Priority priority, OnConnection<T> work)
            throws SQLException {
        Connection c = connection(dataSource, remainingNanos, priority);
        T result;
        try {
            result = work.apply(c);
        } catch (SQLException | RuntimeException | Error e) {
            try {
                c.close();
            } catch (SQLException | RuntimeException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
        try {
            c.close();
        } catch (SQLException | RuntimeException e) {
            LOG.warn("closing a connection after its batch committed failed (the batch stands): {}", e.toString());
        }
        return result;
    }

    /**
     * A batcher for {@code call} with these settings; validation happens in its build(). Every batcher built on
     * the same data source shares one in-flight budget of the pool's size.
     */
    <K, V> Batcher<K, V> batcher(BatchCall<K, V> call, String defaultName, boolean reads) {
        IntSupplier capacity = capacity(dataSource);
        BatcherBuilder<K, V> b = new BatcherBuilder<>(call, reads, true)
                .name(name != null ? name : defaultName)
                .maxInFlight(maxInFlight != null ? maxInFlight : capacity.getAsInt())
                .maxBatchSize(maxBatchSize).maxQueued(maxQueued).maxRetries(maxRetries).timeout(timeout)
                .linger(linger, minBatch).ticker(ticker).rowError(rowError)
                .budget(InFlightBudget.of(budgetKey(dataSource), capacity));
        FerryDataSource ferry = ferryOf(dataSource);
        if (ferry != null) {
            b.metrics(ferry.metricsFactory());
        }
        if (scheduler != null) {
            b.scheduler(scheduler);
        }
        if (executor != null) {
            b.executor(executor);
        }
        return b.build();
    }

    /**
     * What batchers share an in-flight budget by: the pool, for the pool and its priority and lane views (they
     * borrow from the same connections); the pool's one {@code reads()} view for reads at any priority, whose
     * batches borrow from the replicas' pools; any other data source itself. Priority and lane views are new objects
     * at each call, so they cannot be the key; the key must live as long as the pool (the map is weak).
     */
    private static Object budgetKey(DataSource dataSource) {
        FerryDataSource ferry = ferryOf(dataSource);
        if (ferry == null) {
            return dataSource;
        }
        return dataSource instanceof dev.ferry.DataSourceView view && view.isReads()
                ? ferry.reads() : ferry;
    }

    /** The Ferry pool behind the data source (itself, or a view of it such as {@code reads()}), or null. */
    private static FerryDataSource ferryOf(DataSource dataSource) {
        if (dataSource instanceof FerryDataSource ferry) {
            return ferry;
        }
        if (dataSource instanceof dev.ferry.DataSourceView view) {
            try {
                return view.unwrap(FerryDataSource.class);
            } catch (SQLException e) {
                return null;
            }
        }
        return null;
    }

    /** One batch per pooled connection: the pool's maximumPoolSize (read live) when it is a Ferry pool, else 10. */
    private static IntSupplier capacity(DataSource dataSource) {
        FerryDataSource ferry = ferryOf(dataSource);
        if (ferry != null) {
            // Read on every use (the pool may resize), without starting the pool: this runs under a group lock.
            return ferry::getMaximumPoolSize;
        }
        return () -> 10;
    }
}
