package dev.ferry;

/**
 * How urgent a request is. A pool serves its waiting callers by priority, first come first served within one;
 * a batcher sends CRITICAL requests at once, alone.
 */
public enum Priority {
    /** Served before everyone else; may use the pool's emergency reserve; skips batching queues. */
    CRITICAL,
    /** The default. */
    NORMAL,
    /**
     * Background work (reports, exports): served after NORMAL; after waiting a second it competes with NORMAL
     * callers by arrival (CRITICAL callers still go first).
     */
    BULK
}
