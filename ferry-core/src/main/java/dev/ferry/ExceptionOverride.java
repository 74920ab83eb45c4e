package dev.ferry;

import java.sql.SQLException;

/**
 * Decides, before Ferry's own rules, whether an {@link SQLException} seen on a lent connection means the
 * connection must not be lent again (HikariCP's {@code SQLExceptionOverride}). Configure it with
 * {@code exceptionOverrideClassName} or {@code FerryConfig.Builder#exceptionOverride}.
 *
 * <p>It is called on the borrower's thread, outside any lock of the pool's, for every SQLException a connection,
 * statement or result set throws; keep it fast. An exception it throws is logged and treated as
 * {@link Decision#CONTINUE_EVICT}.
 */
@FunctionalInterface
public interface ExceptionOverride {

    /** What to do with the connection that threw. */
    enum Decision {
        /** Apply Ferry's rules (SQLState class 08, known fatal states and vendor codes). */
        CONTINUE_EVICT,
        /** Keep the connection, whatever the rules say. */
        DO_NOT_EVICT,
        /** Evict the connection, whatever the rules say. */
        MUST_EVICT
    }

    Decision adjudicate(SQLException e);
}
