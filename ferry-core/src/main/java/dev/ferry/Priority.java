package dev.ferry;

/** How urgent a request is. Critical work skips batching queues (and, once lanes exist, pool queues). */
public enum Priority {
    NORMAL,
    /** Runs at once, alone, without waiting for a batch or an in-flight slot. */
    CRITICAL
}
