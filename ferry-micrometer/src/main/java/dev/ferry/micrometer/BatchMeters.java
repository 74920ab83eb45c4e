package dev.ferry.micrometer;

import dev.ferry.batch.BatchStats;
import dev.ferry.batch.Batcher;
import dev.ferry.batch.FlushReason;
import dev.ferry.observe.BatchMetrics;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * One batcher's meters, tag {@code batcher} (its name: give batchers distinct names; a second batcher with a
 * name already reporting to the registry gets no meters, with a WARN). Counters are read from
 * {@link Batcher#stats()} when the registry asks; only the batch size is recorded as it happens.
 *
 * <table>
 * <caption>Meters (Prometheus names in brackets)</caption>
 * <tr><td>{@code ferry.batch.requests} [ferry_batch_requests_total]</td><td>requests submitted</td></tr>
 * <tr><td>{@code ferry.batch.round.trips} [ferry_batch_round_trips_total]</td><td>batches sent</td></tr>
 * <tr><td>{@code ferry.batch.executions}</td><td>batch function calls (retries and split halves
 * included)</td></tr>
 * <tr><td>{@code ferry.batch.flushes}, tag {@code reason}</td><td>batches by why they were sent (natural, full,
 * linger, min_batch, critical, disabled)</td></tr>
 * <tr><td>{@code ferry.batch.rejected}, {@code .timeouts}, {@code .failed}, {@code .retries},
 * {@code .outcome.unknown}</td><td>see {@link BatchStats}</td></tr>
 * <tr><td>{@code ferry.batch.queue.wait} function timer [ferry_batch_queue_wait_seconds_sum / _count]</td>
 * <td>time requests spent queued (mean = sum / count)</td></tr>
 * <tr><td>{@code ferry.batch.size} distribution summary, histogram</td><td>distinct keys per batch</td></tr>
 * <tr><td>{@code ferry.batch.queued} gauge</td><td>requests queued now</td></tr>
 * </table>
 */
final class BatchMeters implements BatchMetrics {

    private final MeterRegistry registry;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();
    private final DistributionSummary size;

    BatchMeters(MeterRegistry registry, Batcher<?, ?> batcher) {
        this.registry = registry;
        Tags tags = Tags.of("batcher", batcher.name());
        if (registry.find("ferry.batch.requests").tags(tags).meter() != null) {
            // Micrometer would hand back the other batcher's meters: its figures would show for both, and closing
            // either would remove both. Report this one nowhere rather than wrongly.
            org.slf4j.LoggerFactory.getLogger(BatchMeters.class).warn("batcher '{}': another batcher of that name "
                    + "already reports to this registry; this one has no meters (give each a name with "
                    + "BatcherBuilder.name or the helpers' .name)", batcher.name());
            size = null;
            return;
        }
        counter("ferry.batch.requests", "Requests submitted", tags, batcher, s -> s.requests());
        counter("ferry.batch.round.trips", "Batches sent", tags, batcher, s -> s.batches());
        counter("ferry.batch.executions", "Batch function calls, retries and split halves included", tags, batcher,
                s -> s.executions());
        for (FlushReason reason : FlushReason.values()) {
            counter("ferry.batch.flushes", "Batches sent, by why", tags.and("reason",
                    reason.name().toLowerCase(java.util.Locale.ROOT)), batcher,
                    s -> s.flushReasons().getOrDefault(reason, 0L));
        }
        counter("ferry.batch.rejected", "Requests refused: queue full", tags, batcher, s -> s.rejected());
        counter("ferry.batch.timeouts", "Requests that timed out", tags, batcher, s -> s.timedOut());
        counter("ferry.batch.failed", "Requests completed with an error", tags, batcher, s -> s.failed());
        counter("ferry.batch.retries", "Batch re-executions after retryable errors", tags, batcher,
                s -> s.retries());
        counter("ferry.batch.outcome.unknown", "Writes whose outcome is unknown", tags, batcher,
                s -> s.outcomeUnknown());
        add(FunctionTimer.builder("ferry.batch.queue.wait", batcher, b -> {
                    BatchStats s = b.stats();
                    return s.requests() - s.rejected();
                }, b -> b.stats().queueWaitNanos(), TimeUnit.NANOSECONDS)
                .description("Time requests spent queued").tags(tags).register(registry));
        add(Gauge.builder("ferry.batch.queued", batcher, b -> b.queued()).description("Requests queued now")
                .tags(tags).strongReference(true).register(registry));
        size = add(DistributionSummary.builder("ferry.batch.size").description("Distinct keys per batch")
                .tags(tags).publishPercentileHistogram().minimumExpectedValue(1.0).maximumExpectedValue(10_000.0)
                .register(registry));
    }

    private void counter(String name, String description, Tags tags, Batcher<?, ?> batcher,
                         ToDoubleFunction<BatchStats> value) {
        add(FunctionCounter.builder(name, batcher, b -> value.applyAsDouble(b.stats())).description(description)
                .tags(tags).register(registry));
    }

    private <M extends Meter> M add(M meter) {
        meters.add(meter);
        return meter;
    }

    @Override
    public void batchExecuted(int distinctKeys) {
        if (size != null) {
            size.record(distinctKeys);
        }
    }

    @Override
    public void close() {
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
    }
}
