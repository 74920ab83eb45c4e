package dev.ferry.batch;

import dev.ferry.FerryDataSource;
import dev.ferry.FerryPool;
import dev.ferry.Scheduler;
import dev.ferry.Ticker;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executor;
import javax.sql.DataSource;

/**
 * The batching settings shared by the JDBC helpers' builders ({@link BatchedLookup.Builder},
 * {@link BatchedWriter.Builder}); see {@link Batcher} for what each does. {@code B} is the concrete builder, so
 * the setters chain.
 */
public abstract class BatchSettings<B extends BatchSettings<B>> {

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

    BatchSettings(DataSource dataSource, int defaultBatchSize) {
        this.dataSource = java.util.Objects.requireNonNull(dataSource, "dataSource");
        this.maxBatchSize = defaultBatchSize;
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** Batches running at once; default: the pool's maximumPoolSize (one per connection), else 10. */
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

    /**
     * The statement timeout for a batch's queries, in whole seconds (JDBC's unit), rounded up from the request
     * timeout: a batch on a hung database fails instead of holding its callers past their timeout.
     */
    int statementTimeoutSeconds() {
        return timeout == null ? 0 : (int) Math.max(1, (timeout.toMillis() + 999) / 1000);
    }

    /** A batcher for {@code function} with these settings; validation happens in its build(). */
    <K, V> Batcher<K, V> batcher(BatchFunction<K, V> function, String defaultName, boolean retryConnectionFaults) {
        Batcher.Builder<K, V> b = Batcher.builder(function)
                .name(name != null ? name : defaultName)
                .maxInFlight(maxInFlight != null ? maxInFlight : defaultInFlight(dataSource))
                .maxBatchSize(maxBatchSize).maxQueued(maxQueued).maxRetries(maxRetries).timeout(timeout)
                .linger(linger, minBatch).retryConnectionFaults(retryConnectionFaults).ticker(ticker);
        if (scheduler != null) {
            b.scheduler(scheduler);
        }
        if (executor != null) {
            b.executor(executor);
        }
        return b.build();
    }

    /** One batch per pooled connection: the pool's maximumPoolSize when it is a Ferry pool. */
    private static int defaultInFlight(DataSource dataSource) {
        if (dataSource instanceof FerryDataSource) {
            try {
                return dataSource.unwrap(FerryPool.class).maximumPoolSize();
            } catch (SQLException e) {
                return 10;
            }
        }
        return 10;
    }
}
