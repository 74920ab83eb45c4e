package dev.ferry.batch;

/** Why a batch was sent, counted in {@link BatchStats}. */
public enum FlushReason {
    /** An in-flight slot was free: everything queued went (natural batching). */
    NATURAL,
    /** The queue held at least maxBatchSize requests. */
    FULL,
    /** linger was set and the oldest request had waited that long. */
    LINGER,
    /** linger was set and minBatch requests were queued. */
    MIN_BATCH,
    /** A critical request, sent alone at once. */
    CRITICAL,
    /** Batching is switched off: every request goes alone. */
    DISABLED
}
