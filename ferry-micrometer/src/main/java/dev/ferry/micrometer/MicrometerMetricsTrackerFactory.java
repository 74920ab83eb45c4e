package dev.ferry.micrometer;

import dev.ferry.FerryPool;
import dev.ferry.batch.Batcher;
import dev.ferry.observe.BatchMetrics;
import dev.ferry.observe.MetricsTrackerFactory;
import dev.ferry.observe.PoolMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Objects;

/**
 * Ferry's metrics in a Micrometer {@link MeterRegistry}: set it with {@code FerryConfig.Builder.metricsTrackerFactory}
 * (or give the registry to {@code metricRegistry}, as with HikariCP). Pools report under {@code ferry.connections.*}
 * (HikariCP's {@code hikaricp.connections.*} vocabulary, tag {@code pool}) and {@code ferry.lane.*} (tags
 * {@code pool} and {@code lane}); batchers under {@code ferry.batch.*} (tag {@code batcher}). See
 * {@link PoolMeters} and {@link BatchMeters} for every meter. With {@link #withOpenTelemetryNames()}, pools also
 * report the OpenTelemetry database-client connection metrics ({@code db.client.connection.*}).
 */
public final class MicrometerMetricsTrackerFactory implements MetricsTrackerFactory {

    private final MeterRegistry registry;
    private final boolean openTelemetryNames;
    private final boolean percentileHistograms;

    public MicrometerMetricsTrackerFactory(MeterRegistry registry) {
        this(registry, false, false);
    }

    private MicrometerMetricsTrackerFactory(MeterRegistry registry, boolean openTelemetryNames,
                                            boolean percentileHistograms) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.openTelemetryNames = openTelemetryNames;
        this.percentileHistograms = percentileHistograms;
    }

    /** The same, also reporting the OpenTelemetry semantic-convention names ({@code db.client.connection.*}). */
    public MicrometerMetricsTrackerFactory withOpenTelemetryNames() {
        return new MicrometerMetricsTrackerFactory(registry, true, percentileHistograms);
    }

    /**
     * The same, with percentile histograms on the timers recorded at every borrow, return and statement
     * ({@code ferry.connections.acquire}, {@code .usage}, {@code ferry.lane.acquire}, {@code ferry.statements}):
     * what the dashboard's p50/p95/p99 panels need. Off by default, as in HikariCP's tracker, because each
     * histogram adds atomic increments shared by every thread to each borrow (README, Performance, has the
     * cost); a Micrometer {@code MeterFilter} can turn them on too. Connect time and batch size always have
     * histograms (they are recorded rarely).
     */
    public MicrometerMetricsTrackerFactory withPercentileHistograms() {
        return new MicrometerMetricsTrackerFactory(registry, openTelemetryNames, true);
    }

    public MeterRegistry registry() {
        return registry;
    }

    @Override
    public PoolMetrics create(FerryPool pool) {
        return new PoolMeters(registry, pool, openTelemetryNames, percentileHistograms);
    }

    @Override
    public BatchMetrics create(Batcher<?, ?> batcher) {
        return new BatchMeters(registry, batcher);
    }

    @Override
    public String toString() {
        return "MicrometerMetricsTrackerFactory{" + registry.getClass().getSimpleName()
                + (openTelemetryNames ? ", with OpenTelemetry names" : "")
                + (percentileHistograms ? ", with percentile histograms" : "") + "}";
    }
}
