package dev.ferry;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;

/**
 * Hooks into a connection's life in the pool ({@code FerryConfig.Builder.interceptor}): created, lent, returned,
 * destroyed. For session settings and roles on a new connection, per-loan context (a tenant's {@code SET ROLE},
 * tracing), and bookkeeping; as Agroal's {@code AgroalPoolInterceptor} and the customizers HikariCP users have
 * asked for (HikariCP #78, #141, #278, #523, #579, #1353, #2169).
 *
 * <p>Every method has a no-op default. Each runs on the thread where the event happens (a connector, the
 * borrower, the closer), never under one of the pool's locks (a data source started lazily opens its first
 * connection on the first caller's thread, holding no lock; other first callers wait for that start's outcome).
 * Several interceptors run in the order they were
 * added for create and acquire, and in the reverse order for return and destroy. What one throws is contained:
 *
 * <ul>
 *   <li>{@link #onCreate}: the new connection is closed, never pooled, and the attempt counts as a failed connect
 *       (retried with the pool's back-off);
 *   <li>{@link #onAcquire}: the connection is evicted (its state is unknown) and the borrower gets an
 *       {@link SQLException} naming the interceptor, with the error as its cause;
 *   <li>{@link #onReturn}: the connection is evicted and the error logged; the caller's {@code close()} succeeds;
 *   <li>{@link #onDestroy}: logged.
 * </ul>
 *
 * <p>With no interceptor configured the pool makes none of these calls and reads no extra clock.
 */
public interface ConnectionInterceptor {

    /**
     * A new physical connection, after the configured settings (readOnly, isolation, catalog, schema) and before
     * the pool reads its state and runs connectionInitSql: still in autocommit mode, so statements here commit.
     * Isolation, catalog and schema are read after it, so what it sets through them is what each loan is reset
     * to; readOnly and the network timeout are reset to the configured values, not to what it set. Session
     * settings made with SQL ({@code SET ...}) are kept as a borrower leaves them, as in any pool: reset those
     * in {@link #onReturn}.
     */
    default void onCreate(Connection physical) throws SQLException {
    }

    /** A connection about to be handed to a borrower (the borrower's own handle), after {@code waited}. */
    default void onAcquire(Connection connection, Duration waited) throws SQLException {
    }

    /**
     * The borrower is returning {@code connection} after holding it for {@code held}: called first in
     * {@code close()}, while it is still usable, before the pool closes its statements, rolls back and resets it.
     */
    default void onReturn(Connection connection, Duration held) throws SQLException {
    }

    /**
     * The physical connection is about to be closed, and why (the reason of the ConnectionEvicted event). A
     * connection the pool took back (leak reclaim, the caps) has already been aborted, or, where the driver cannot
     * abort, will be rolled back after this call and then closed.
     */
    default void onDestroy(Connection physical, String reason) {
    }
}
