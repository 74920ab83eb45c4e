package dev.ferry.pool;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.util.Locale;
import java.util.Set;

/**
 * Decides whether an SQLException means the connection itself is broken, so the pool must not lend it again.
 * Query errors (constraint violations, syntax errors, statement timeouts, serialization failures) leave the
 * connection usable and are not fatal.
 *
 * <p>SQLStates are standard, so they apply to every driver. Vendor error codes are not: MySQL's 2006 means
 * "server has gone away" there and something else on another database, so the MySQL/MariaDB codes apply only
 * when the pool's URL or driver is MySQL's or MariaDB's.
 */
final class FatalErrors {

    /** SQLStates outside class 08 that also mean the session is gone (HikariCP's list and PostgreSQL's). */
    private static final Set<String> FATAL_STATES = Set.of(
            "57P01", // PostgreSQL admin_shutdown (also pg_terminate_backend)
            "57P02", // PostgreSQL crash_shutdown
            "57P03", // PostgreSQL cannot_connect_now
            "57P05", // PostgreSQL idle_session_timeout: the server closed the session
            "25P03", // PostgreSQL idle_in_transaction_session_timeout: the server closed the session
            "0A000", // feature not supported: HikariCP evicts on it (some drivers report a dead link so)
            "01002", // SQL standard: disconnect error
            "JZ0C0", "JZ0C1", // Sybase jConnect: connection closed
            "90067", // H2: connection broken
            "90098"); // H2: database is closed

    /** MySQL/MariaDB error codes that mean the session is gone, whatever the SQLState says. */
    private static final Set<Integer> MYSQL_FATAL_CODES = Set.of(
            1053, // server shutdown in progress
            1927, // MariaDB: connection was killed
            2006, // server has gone away
            2013); // lost connection during query

    private static final FatalErrors GENERIC = new FatalErrors(false);
    private static final FatalErrors MYSQL = new FatalErrors(true);

    private final boolean mysqlCodes;

    private FatalErrors(boolean mysqlCodes) {
        this.mysqlCodes = mysqlCodes;
    }

    /** The rules for a pool connecting with this URL and driver (or DataSource) class. */
    static FatalErrors forSource(String jdbcUrl, String driverOrDataSourceClass) {
        String u = (jdbcUrl == null ? "" : jdbcUrl.toLowerCase(Locale.ROOT)) + " "
                + (driverOrDataSourceClass == null ? "" : driverOrDataSourceClass.toLowerCase(Locale.ROOT));
        return u.startsWith("jdbc:mysql:") || u.startsWith("jdbc:mariadb:") || u.contains("mysql")
                || u.contains("mariadb") ? MYSQL : GENERIC;
    }

    /** Whether the source is MySQL or MariaDB (their string syntax differs too: SQL statistics' fingerprints). */
    boolean isMySql() {
        return this == MYSQL;
    }

    boolean isFatal(SQLException e) {
        int depth = 0;
        for (SQLException x = e; x != null && depth < 10; x = x.getNextException(), depth++) {
            if (x instanceof SQLRecoverableException) {
                return true;
            }
            String state = x.getSQLState();
            if (state != null && (state.startsWith("08") || FATAL_STATES.contains(state))) {
                return true;
            }
            if (mysqlCodes && MYSQL_FATAL_CODES.contains(x.getErrorCode())) {
                return true;
            }
        }
        return false;
    }
}
