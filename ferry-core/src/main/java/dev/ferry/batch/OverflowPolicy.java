package dev.ferry.batch;

/** What {@code submit} does when a group's queue already holds {@code maxQueued} requests. */
public enum OverflowPolicy {
    /** Fail the new request at once with an SQLTransientException. */
    REJECT,
    /** Block the caller until there is room or the request's timeout passes. */
    BLOCK
}
