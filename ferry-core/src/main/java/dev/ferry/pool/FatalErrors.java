package dev.ferry.pool;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.util.Set;

/**
 * Decides whether an SQLException means the connection itself is broken, so the pool must not lend it again.
 * Query errors (constraint violations, syntax errors, statement timeouts, serialization failures) leave the
 * connection usable and are not fatal.
 */
final class FatalErrors {

    /** SQLStates outside class 08 that also mean the session is gone. */
    private static final Set<String> FATAL_STATES = Set.of(
            "57P01", // PostgreSQL admin_shutdown (also pg_terminate_backend)
            "57P02", // PostgreSQL crash_shutdown
            "57P03", // PostgreSQL cannot_connect_now
            "01002", // SQL standard: disconnect error
            "JZ0C0", "JZ0C1", // Sybase jConnect: connection closed
            "90067", // H2: connection broken
            "90098"); // H2: database is closed

    /** Vendor error codes that mean the session is gone, for drivers whose SQLState is not specific. */
    private static final Set<Integer> FATAL_CODES = Set.of(
            1053, // MySQL/MariaDB: server shutdown in progress
            1927, // MariaDB: connection was killed
            2006, // MySQL: server has gone away
            2013); // MySQL: lost connection during query

    private FatalErrors() {
    }

    static boolean isFatal(SQLException e) {
        int depth = 0;
        for (SQLException x = e; x != null && depth < 10; x = x.getNextException(), depth++) {
            if (x instanceof SQLRecoverableException) {
                return true;
            }
            String state = x.getSQLState();
            if (state != null && (state.startsWith("08") || FATAL_STATES.contains(state))) {
                return true;
            }
            if (FATAL_CODES.contains(x.getErrorCode())) {
                return true;
            }
        }
        return false;
    }
}
