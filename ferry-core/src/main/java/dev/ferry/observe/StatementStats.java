package dev.ferry.observe;

import java.time.Duration;

/**
 * One statement fingerprint's figures since the pool started (or since {@link SqlStatistics#reset()}). Times are
 * those of the execute calls (for a query: until the driver returned the result set, not the reading of it).
 *
 * @param fingerprint the statement, literals replaced by {@code ?} ({@link SqlFingerprint}); {@code (other)}
 *                    gathers the statements that came after the table of fingerprints was full
 * @param calls       executions
 * @param errors      executions that threw
 * @param rows        rows changed (update counts) plus rows read through its result sets (generated keys
 *                    included)
 * @param total       time in its execute calls, all together
 * @param p95         95th percentile of one execution's time, from a histogram: at most 25% above the true value
 *                    (a bucket's upper bound), and never above {@code max}
 * @param max         the longest execution
 */
public record StatementStats(String fingerprint, long calls, long errors, long rows, Duration total, Duration p95,
                             Duration max) {

    /** Mean time of one execution. */
    public Duration mean() {
        return calls == 0 ? Duration.ZERO : total.dividedBy(calls);
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "%s: calls=%d, errors=%d, rows=%d, mean=%.3fms, p95=%.3fms, "
                        + "max=%.3fms", fingerprint, calls, errors, rows, mean().toNanos() / 1e6, p95.toNanos() / 1e6,
                max.toNanos() / 1e6);
    }
}
