package dev.ferry.cli;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * One pool's figures for one scenario run.
 *
 * @param samples    one per second: throughput, latency percentiles and pool state during that second
 * @param byPriority the same figures per priority of the scenario's mix ("critical", "normal", "bulk")
 * @param reserveUses connections Ferry opened from its emergency reserve (0 for other pools)
 * @param batch      what the batcher did, for a batched pool; null otherwise
 */
record RunResult(String pool, boolean batched, long requests, long succeeded, long failed, long timeouts,
                 Map<String, Long> errors, double seconds, Histogram latency, Histogram acquire,
                 long connectionsOpened, int peakPoolSize, long roundTrips, List<Sample> samples,
                 Map<String, ByPriority> byPriority, long reserveUses, BatchFigures batch) {

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

    /**
     * A success rate as text that shows any failure: "100.0" only when every request succeeded; otherwise rounded
     * down, with as many decimals (up to 4) as it takes to show how far below 100 it is (2 failures in 15,000:
     * "99.98"), so a failure never reads as 100.0%.
     */
    private static final java.math.BigInteger HUNDRED = java.math.BigInteger.valueOf(100);

    static String successText(long succeeded, long requests) {
        if (requests == 0) {
            return "-";
        }
        if (succeeded >= requests) {
            return "100.0";
        }
        // Exact integer arithmetic: a double's rounding would misplace the last digit (499,999 of 500,000).
        java.math.BigInteger failedTimes100 = java.math.BigInteger.valueOf(requests - succeeded).multiply(HUNDRED);
        java.math.BigInteger all = java.math.BigInteger.valueOf(requests);
        int decimals = 1; // the fewest (up to 4) at which the failure rate, 100 * failed / requests, shows
        while (decimals < 4 && failedTimes100.multiply(java.math.BigInteger.TEN.pow(decimals)).compareTo(all) < 0) {
            decimals++;
        }
        return new java.math.BigDecimal(java.math.BigInteger.valueOf(succeeded).multiply(HUNDRED))
                .divide(new java.math.BigDecimal(all), decimals, java.math.RoundingMode.DOWN).toPlainString();
    }

    static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e6;
    }

    static double maxMs(Histogram h) {
        return h.getTotalCount() == 0 ? 0 : h.getMaxValue() / 1e6;
    }
}
