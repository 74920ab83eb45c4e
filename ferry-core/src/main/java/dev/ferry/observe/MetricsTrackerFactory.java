package dev.ferry.observe;

import dev.ferry.FerryPool;
import dev.ferry.batch.Batcher;

/**
 * Connects pools and batchers to a metrics system (HikariCP's {@code MetricsTrackerFactory}): set one with
 * {@code FerryConfig.Builder.metricsTrackerFactory}, or hand a Micrometer {@code MeterRegistry} to
 * {@code metricRegistry} with {@code ferry-micrometer} on the class path. Batched lookups and writers built on a
 * pool with a factory are tracked by it too; a batcher built by hand, with {@code BatcherBuilder.metrics}.
 */
public interface MetricsTrackerFactory {

    /**
     * Called once while the pool starts, before its first connection is opened (so connects are timed too):
     * register gauges that read {@code pool} (its live figures, readable from then on) and return what records
     * the pool's events. If the pool then fails to start, the tracker is closed.
     */
    PoolMetrics create(FerryPool pool);

    /** Called once when a batcher is built; null or the default tracks nothing. */
    default BatchMetrics create(Batcher<?, ?> batcher) {
        return new BatchMetrics() {
        };
    }
}
