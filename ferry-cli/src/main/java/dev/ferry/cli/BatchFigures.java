package dev.ferry.cli;

import dev.ferry.batch.BatchStats;
import dev.ferry.batch.FlushReason;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a batched pool's batcher did during the measured run (warm-up excluded): the difference of its counters
 * between two snapshots.
 *
 * @param requests     requests the batcher took
 * @param sent         of those, the ones sent in a batch (not refused, timed out or withdrawn while queued)
 * @param batches      batches sent (round trips; retries and split halves not counted)
 * @param sizes        batches by size bucket (distinct keys for a lookup, rows for a writer), keyed by the
 *                     bucket's lower bound (1, 2, 4, 8, ...); empty buckets left out
 * @param flushReasons batches by why they were sent: every reason (natural, full, linger, min_batch, critical,
 *                     disabled), 0 included
 * @param meanQueueWaitMs mean time a sent request waited in the queue before its batch went
 */
record BatchFigures(long requests, long sent, long batches, Map<Integer, Long> sizes, Map<String, Long> flushReasons,
                    double meanQueueWaitMs) {

    static BatchFigures between(BatchStats before, BatchStats after) {
        Map<Integer, Long> sizes = new TreeMap<>();
        after.sizeHistogram().forEach((bucket, n) -> {
            long d = n - before.sizeHistogram().getOrDefault(bucket, 0L);
            if (d > 0) {
                sizes.put(bucket, d);
            }
        });
        Map<String, Long> reasons = new LinkedHashMap<>();
        for (FlushReason reason : FlushReason.values()) {
            long d = after.flushReasons().getOrDefault(reason, 0L) - before.flushReasons().getOrDefault(reason, 0L);
            reasons.put(reason.name().toLowerCase(Locale.ROOT), d);
        }
        long requests = after.requests() - before.requests();
        long sent = requests - (after.rejected() - before.rejected()) - (after.timedOut() - before.timedOut())
                - (after.withdrawn() - before.withdrawn());
        double meanWait = sent <= 0 ? 0 : (after.queueWaitNanos() - before.queueWaitNanos()) / 1e6 / sent;
        return new BatchFigures(requests, sent, after.batches() - before.batches(), sizes, reasons, meanWait);
    }

    /** Requests per batch: how many requests shared a round trip, on average (those sent, over batches). */
    double requestsPerBatch() {
        return batches == 0 ? 0 : (double) sent / batches;
    }

    /** One line for the summary: "58933 batches, 4.5 requests each; sizes 1: 120, 2-3: 800, ...; flushed ...". */
    String describe() {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%d batches, %.1f requests each; sizes",
                batches, requestsPerBatch()));
        String sep = " ";
        for (Map.Entry<Integer, Long> e : sizes.entrySet()) {
            int low = e.getKey();
            int high = low * 2 - 1;
            b.append(sep).append(low == high ? String.valueOf(low) : low + "-" + high).append(": ").append(e.getValue());
            sep = ", ";
        }
        b.append("; flushed");
        sep = " ";
        for (Map.Entry<String, Long> e : flushReasons.entrySet()) {
            if (e.getValue() > 0) {
                b.append(sep).append(e.getKey()).append(' ').append(e.getValue());
                sep = ", ";
            }
        }
        return b.append(String.format(Locale.ROOT, "; queue wait %.2f ms mean", meanQueueWaitMs)).toString();
    }
}
