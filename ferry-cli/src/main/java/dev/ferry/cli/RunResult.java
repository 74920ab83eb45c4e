package dev.ferry.cli;

import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * One pool's figures for one scenario run.
 *
 * @param samples    one per second: throughput, latency percentiles and pool state during that second
 * @param byPriority the same figures per priority of the scenario's mix ("critical", "normal", "bulk")
 * @param reserveUses connections Ferry opened from its emergency reserve (0 for other pools)
 */
record RunResult(String pool, boolean batched, long requests, long succeeded, long failed, long timeouts,
                 Map<String, Long> errors, double seconds, Histogram latency, Histogram acquire,
                 long connectionsOpened, int peakPoolSize, long roundTrips, List<Sample> samples,
                 Map<String, ByPriority> byPriority, long reserveUses) {

    /** The same figures for the requests of one priority. */
    record ByPriority(long requests, long succeeded, long failed, long timeouts, Histogram latency,
                      Histogram acquire) {
        double successPercent() {
            return requests == 0 ? 0 : 100.0 * succeeded / requests;
        }
    }

    /** One sampling interval of a run; {@code t} in seconds since the start, throughput per second. */
    record Sample(double t, double throughput, double p50Ms, double p95Ms, double p99Ms, int poolSize, int active,
                  int waiting) {
    }

    double throughputPerSecond() {
        return seconds <= 0 ? 0 : succeeded / seconds;
    }

    double successPercent() {
        return requests == 0 ? 0 : 100.0 * succeeded / requests;
    }

    static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e6;
    }

    static double maxMs(Histogram h) {
        return h.getTotalCount() == 0 ? 0 : h.getMaxValue() / 1e6;
    }
}
