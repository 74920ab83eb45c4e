package dev.ferry;

/**
 * What the pool does when a thread that already holds one of its connections asks for another
 * ({@code FerryConfig.Builder.multipleAcquisition}). A nested borrow (a {@code REQUIRES_NEW} transaction, a
 * repository that opens its own connection inside a caller's) needs two connections at once; under load every
 * connection can be held by a thread waiting for its second, and then every caller times out. The guard makes
 * that visible in tests instead of in production, as Agroal's {@code MultipleAcquisitionAction} does.
 */
public enum MultipleAcquisition {
    /** No check, no cost (the default, as in HikariCP). */
    ALLOW,
    /**
     * The borrow goes on, and a {@link PoolEvent.MultipleAcquisition} event (logged at WARN) carries both stacks:
     * where the held connection was borrowed and where the second is asked for. Each borrow records its stack.
     */
    WARN,
    /** The second borrow fails at once with an {@link java.sql.SQLException} carrying both stacks; nothing waits. */
    FAIL
}
