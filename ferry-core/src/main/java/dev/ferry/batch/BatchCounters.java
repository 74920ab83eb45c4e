package dev.ferry.batch;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** A batcher's counters: striped, so counting never contends between callers; read as a {@link BatchStats}. */
final class BatchCounters {
    final LongAdder requests = new LongAdder();
    final LongAdder batches = new LongAdder();
    final LongAdder executions = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder timedOut = new LongAdder();
    final LongAdder retries = new LongAdder();
    final LongAdder splits = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder withdrawn = new LongAdder();
    final LongAdder outcomeUnknown = new LongAdder();
    private final LongAdder queueWait = new LongAdder();
    private final AtomicLong maxQueueWait = new AtomicLong();
    private final LongAdder[] sizes = new LongAdder[32];
    private final EnumMap<FlushReason, LongAdder> reasons = new EnumMap<>(FlushReason.class);

    BatchCounters() {
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = new LongAdder();
        }
        for (FlushReason r : FlushReason.values()) {
            reasons.put(r, new LongAdder());
        }
    }

    void sent(FlushReason reason, long waitedNanos, long maxWaitedNanos) {
        batches.increment();
        reasons.get(reason).increment();
        queueWait.add(waitedNanos);
        if (maxWaitedNanos > maxQueueWait.get()) {
            maxQueueWait.accumulateAndGet(maxWaitedNanos, Math::max);
        }
    }

    /** Records a batch's size in distinct keys, once it is known (duplicates are folded at execution). */
    void size(int distinctKeys) {
        sizes[31 - Integer.numberOfLeadingZeros(Math.max(1, distinctKeys))].increment();
    }

    BatchStats snapshot() {
        Map<Integer, Long> histogram = new TreeMap<>();
        for (int i = 0; i < sizes.length; i++) {
            long n = sizes[i].sum();
            if (n > 0) {
                histogram.put(1 << i, n);
            }
        }
        Map<FlushReason, Long> byReason = new EnumMap<>(FlushReason.class);
        reasons.forEach((r, n) -> byReason.put(r, n.sum()));
        return new BatchStats(requests.sum(), batches.sum(), executions.sum(), histogram, byReason,
                rejected.sum(), timedOut.sum(), retries.sum(), splits.sum(), failed.sum(), queueWait.sum(),
                maxQueueWait.get(), withdrawn.sum(), outcomeUnknown.sum());
    }
}
