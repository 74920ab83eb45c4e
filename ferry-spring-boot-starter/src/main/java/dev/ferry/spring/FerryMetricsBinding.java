package dev.ferry.spring;

import dev.ferry.FerryConfig;
import dev.ferry.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;

/**
 * Gives the pool the application's {@link MeterRegistry} through ferry-micrometer (apart from the
 * auto-configuration so that its Micrometer types are loaded only when present).
 */
public final class FerryMetricsBinding {

    private final ObjectProvider<MeterRegistry> registry;

    FerryMetricsBinding(ObjectProvider<MeterRegistry> registry) {
        this.registry = registry;
    }

    void bind(FerryConfig.Builder builder, boolean percentileHistograms) {
        MeterRegistry r = registry.getIfUnique();
        if (r == null) {
            return;
        }
        MicrometerMetricsTrackerFactory factory = new MicrometerMetricsTrackerFactory(r);
        builder.metricsTrackerFactory(percentileHistograms ? factory.withPercentileHistograms() : factory);
    }
}
