package dev.ferry.observe;

/**
 * What a batcher reports to a metrics system as it happens; its counters (requests, round trips, flush reasons,
 * rejections, timeouts, queue wait) are read from {@link dev.ferry.batch.Batcher#stats()} instead, when the metrics
 * system asks. Called on the thread that runs the batch, never under the batcher's locks; must be quick and must
 * not throw.
 */
public interface BatchMetrics extends AutoCloseable {

    /** A batch is about to be executed with {@code distinctKeys} keys (duplicates folded). */
    default void batchExecuted(int distinctKeys) {
    }

    /** The batcher closed: remove what was registered for it. */
    @Override
    default void close() {
    }
}
