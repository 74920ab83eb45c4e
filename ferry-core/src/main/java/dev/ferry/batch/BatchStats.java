package dev.ferry.batch;

import java.util.Map;

/**
 * A snapshot of a batcher's counters.
 *
 * @param requests        requests submitted
 * @param batches         batches sent (round trips, not counting retries and split halves)
 * @param executions      calls of the batch function, including retries and split halves
 * @param sizeHistogram   batches by size bucket: key is the bucket's lower bound (1, 2, 4, 8, ...)
 * @param flushReasons    batches by reason
 * @param rejected        requests refused because the queue was full
 * @param timedOut        requests whose deadline passed before they were executed: while queued, or before a
 *                        retry or split half (then the earlier attempts were rolled back)
 * @param retries         batch re-executions after retryable errors
 * @param splits          batches split in two to isolate failing keys
 * @param failed          requests completed with an error
 * @param queueWaitNanos  total time requests spent queued
 * @param maxQueueWaitNanos the longest time one request spent queued
 * @param withdrawn       requests cancelled or abandoned (interrupted caller) before they were sent: never executed
 * @param outcomeUnknown  requests told their write's outcome is unknown (COMMIT lost, or caller interrupted
 *                        after the write was sent)
 */
public record BatchStats(long requests, long batches, long executions, Map<Integer, Long> sizeHistogram,
                         Map<FlushReason, Long> flushReasons, long rejected, long timedOut, long retries,
                         long splits, long failed, long queueWaitNanos, long maxQueueWaitNanos,
                         long withdrawn, long outcomeUnknown) {

    /** Requests per batch: how many round trips batching saved, on average. */
    public double efficiency() {
        return batches == 0 ? 0 : (double) (requests - rejected - timedOut) / batches;
    }

    public double meanQueueWaitMillis() {
        long served = requests - rejected;
        return served == 0 ? 0 : queueWaitNanos / 1e6 / served;
    }
}
