package dev.ferry.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The run's figures as JSON, for scripts. Field names are a contract (README documents them):
 * {@code {"scenario", "pools": {"<pool>": {"requests", "succeeded", "failed", "timeouts", "throughput_per_s",
 * "latency_ms": {p50, p95, p99, max}, "acquire_ms": {...}, "connections_opened", "peak_pool_size",
 * "round_trips", "by_priority": {"critical"|"normal"|"bulk": {"requests", "succeeded", "failed", "timeouts",
 * "success_percent", "latency_ms", "acquire_ms"}}, "reserve_uses", "batch" (batched pools only): {"requests",
 * "sent", "batches", "requests_per_batch", "batch_sizes": {"1": n, "2": n, "4": n, ...}, "flush_reasons": {"natural": n,
 * ...}, "mean_queue_wait_ms"}, ...}}}}.
 */
final class JsonReport {

    private JsonReport() {
    }

    static Map<String, Object> toMap(String scenario, Map<String, Object> settings, List<RunResult> results) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("scenario", scenario);
        root.put("settings", settings);
        Map<String, Object> pools = new LinkedHashMap<>();
        for (RunResult r : results) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("requests", r.requests());
            p.put("succeeded", r.succeeded());
            p.put("failed", r.failed());
            p.put("timeouts", r.timeouts());
            p.put("errors", r.errors());
            p.put("success_percent", r.successPercent());
            p.put("throughput_per_s", r.throughputPerSecond());
            p.put("duration_s", r.seconds());
            p.put("latency_ms", percentiles(r.latency()));
            p.put("acquire_ms", percentiles(r.acquire()));
            p.put("acquire_measured", r.acquire().getTotalCount() > 0);
            p.put("connections_opened", r.connectionsOpened());
            p.put("peak_pool_size", r.peakPoolSize());
            p.put("round_trips", r.roundTrips());
            p.put("batched", r.batched());
            Map<String, Object> byPriority = new LinkedHashMap<>();
            r.byPriority().forEach((name, b) -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("requests", b.requests());
                m.put("succeeded", b.succeeded());
                m.put("failed", b.failed());
                m.put("timeouts", b.timeouts());
                m.put("success_percent", b.successPercent());
                m.put("latency_ms", percentiles(b.latency()));
                m.put("acquire_ms", percentiles(b.acquire()));
                byPriority.put(name, m);
            });
            p.put("by_priority", byPriority);
            p.put("reserve_uses", r.reserveUses());
            if (r.batch() != null) {
                BatchFigures b = r.batch();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("requests", b.requests());
                m.put("sent", b.sent());
                m.put("batches", b.batches());
                m.put("requests_per_batch", b.requestsPerBatch());
                Map<String, Long> sizes = new LinkedHashMap<>();
                b.sizes().forEach((low, n) -> sizes.put(String.valueOf(low), n));
                m.put("batch_sizes", sizes);
                m.put("flush_reasons", b.flushReasons());
                m.put("mean_queue_wait_ms", b.meanQueueWaitMs());
                p.put("batch", m);
            }
            p.put("timeline", r.samples());
            pools.put(r.pool(), p);
        }
        root.put("pools", pools);
        return root;
    }

    static Map<String, Object> percentiles(Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("p50", RunResult.ms(h, 50));
        m.put("p95", RunResult.ms(h, 95));
        m.put("p99", RunResult.ms(h, 99));
        m.put("max", RunResult.maxMs(h));
        return m;
    }

    static String render(Map<String, Object> report) throws IOException {
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
    }

    static void write(Path file, Map<String, Object> report) throws IOException {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), report);
    }
}
