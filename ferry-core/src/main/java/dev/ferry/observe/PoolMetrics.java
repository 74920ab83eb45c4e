package dev.ferry.observe;

/**
 * What a pool reports to a metrics system, as it happens (the gauges, such as active and idle connections, are
 * read from the {@link dev.ferry.FerryPool} given to {@link MetricsTrackerFactory#create} instead, when the
 * metrics system asks). Every method has a no-op default, so an implementation overrides what it records.
 *
 * <p>Called on the thread where the event happens (a borrower's, a connector's, the housekeeper's), never under
 * one of the pool's locks, and on the borrow and return paths of every connection: implementations must be
 * quick and must not block. Anything an implementation throws is logged (once at WARN) and ignored, so a broken
 * tracker cannot break a borrow; do not rely on it. When no factory is configured the pool calls nothing and
 * reads no clock for metrics.
 *
 * <p>{@code lane} is the lane's name, or null when the caller borrowed in no lane (no lanes configured, or a
 * CRITICAL caller, which is never admitted to a lane).
 */
public interface PoolMetrics extends AutoCloseable {

    /** A caller got a connection after {@code nanos} (the whole {@code getConnection}, waiting included). */
    default void acquired(String lane, long nanos) {
    }

    /** A connection came back after being lent for {@code nanos}. */
    default void released(String lane, long nanos) {
    }

    /** A physical connection was opened in {@code nanos}. */
    default void created(long nanos) {
    }

    /** A caller gave up after connectionTimeout (or its own wait) without a connection. */
    default void timedOut(String lane) {
    }

    /**
     * A caller was refused at once: {@code "maxWaiting"} (the wait queue was full) or {@code "shed"} (overload
     * shedding).
     */
    default void rejected(String reason) {
    }

    /** A physical connection was taken out of the pool to be closed, for {@code reason} (see {@link dev.ferry.PoolEvent.ConnectionEvicted}). */
    default void evicted(String reason) {
    }

    /** A connection has been out longer than leakDetectionThreshold. */
    default void leakSuspected() {
    }

    /** A CRITICAL caller opened a connection from the emergency reserve. */
    default void reserveUsed() {
    }

    /** A statement ran for {@code nanos} (only while sqlStatistics is on). */
    default void statement(long nanos, boolean failed) {
    }

    /** A statement took slowStatementThreshold or longer. */
    default void slowStatement() {
    }

    /** The pool closed: remove what was registered for it. */
    @Override
    default void close() {
    }
}
