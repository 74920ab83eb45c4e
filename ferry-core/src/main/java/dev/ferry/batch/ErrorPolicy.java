package dev.ferry.batch;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * What a batcher does with an error that failed a whole batch. Decided from the error and its whole chain
 * ({@code getCause()} and {@code getNextException()}, since drivers and pools wrap what the server said).
 *
 * <ul>
 *   <li>{@link Action#UNKNOWN_OUTCOME}: the error says a COMMIT may have happened ({@link OutcomeUnknownException}
 *       anywhere in the chain). Never retried, never split: that could write twice.
 *   <li>{@link Action#RETRY}: the database rolled the transaction back and said a retry may succeed
 *       (serialization failure 40001, deadlock 40P01, MySQL/MariaDB 1213); and, for reads only, connection
 *       faults.
 *   <li>{@link Action#SPLIT}: the error belongs to a row (data exception 22xxx, integrity constraint 23xxx,
 *       MySQL/MariaDB error codes of the same kinds, or what the user's row-error classifier accepts), so
 *       splitting the batch isolates the rows that cause it.
 *   <li>{@link Action#FAIL}: anything else (bad SQL 42xxx, lock timeout 55P03, resources 53xxx, read-only
 *       25006, a connection fault on a write...) fails every caller of the batch at once, with the real error:
 *       splitting would only pay the same error again 2n−1 times.
 * </ul>
 */
final class ErrorPolicy {

    enum Action { RETRY, SPLIT, FAIL, UNKNOWN_OUTCOME }

    /** MySQL/MariaDB vendor codes for errors that belong to one row (duplicate key, FK, NOT NULL, bad value). */
    private static final java.util.Set<Integer> MYSQL_ROW_ERRORS = java.util.Set.of(
            1062, 1216, 1217, 1451, 1452, 1048, 1264, 1265, 1292, 1366, 1406, 3819);

    private final boolean reads;
    private final Predicate<SQLException> rowError;

    /**
     * @param reads    whether the batch only reads (then connection faults are retried)
     * @param rowError the user's extra classifier of row errors, or null
     */
    ErrorPolicy(boolean reads, Predicate<SQLException> rowError) {
        this.reads = reads;
        this.rowError = rowError;
    }

    Action classify(SQLException e) {
        if (find(e, x -> x instanceof OutcomeUnknownException)) {
            return Action.UNKNOWN_OUTCOME;
        }
        if (isSerializationFailure(e)) {
            return Action.RETRY;
        }
        if (isConnectionFault(e)) {
            return reads ? Action.RETRY : Action.FAIL;
        }
        if (find(e, ErrorPolicy::isRowErrorItself) || (rowError != null && userSaysRowError(e))) {
            return Action.SPLIT;
        }
        return Action.FAIL;
    }

    private boolean userSaysRowError(SQLException e) {
        try {
            return rowError.test(e);
        } catch (RuntimeException bug) {
            return false; // a broken classifier must not hang or duplicate work: treat as not a row error
        }
    }

    private static boolean isRowErrorItself(SQLException x) {
        String s = x.getSQLState();
        if (s != null && (s.startsWith("22") || s.startsWith("23"))) {
            return true;
        }
        return MYSQL_ROW_ERRORS.contains(x.getErrorCode()) && (s == null || s.startsWith("HY") || s.startsWith("22")
                || s.startsWith("23"));
    }

    /** Serialization failure or deadlock: the database rolled the transaction back, so a retry is safe. */
    static boolean isSerializationFailure(SQLException e) {
        return find(e, x -> "40001".equals(x.getSQLState()) || "40P01".equals(x.getSQLState())
                || (x.getErrorCode() == 1213 && "40001".equals(x.getSQLState())));
    }

    /**
     * The connection, not the statement, failed: JDBC's connection exception classes, SQLState class 08,
     * PostgreSQL's admin shutdown/crash (57P01–57P03), H2's "connection broken" and "database closed", MySQL's
     * "server has gone away" / "lost connection".
     */
    static boolean isConnectionFault(SQLException e) {
        return find(e, x -> {
            String s = x.getSQLState();
            return x instanceof SQLNonTransientConnectionException || x instanceof SQLTransientConnectionException
                    || x instanceof SQLRecoverableException
                    || (s != null && (s.startsWith("08") || s.equals("57P01") || s.equals("57P02")
                            || s.equals("57P03") || s.equals("90067") || s.equals("90098") || s.equals("90121")))
                    || x.getErrorCode() == 2006 || x.getErrorCode() == 2013 || x.getErrorCode() == 1927;
        });
    }

    /**
     * Whether a failed COMMIT left the outcome certain: the database said it rolled back (serialization
     * failure, deadlock, a deferred constraint). Anything else (a lost connection above all) is unknown.
     */
    static boolean commitCertainlyRolledBack(SQLException e) {
        if (isConnectionFault(e)) {
            return false;
        }
        return isSerializationFailure(e) || find(e, ErrorPolicy::isRowErrorItself);
    }

    /** Whether any SQLException in the chain (causes and next exceptions, each visited once) matches. */
    static boolean find(Throwable e, Predicate<SQLException> test) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        return find(e, test, seen);
    }

    private static boolean find(Throwable e, Predicate<SQLException> test, Map<Throwable, Boolean> seen) {
        for (Throwable t = e; t != null && seen.put(t, Boolean.TRUE) == null; t = t.getCause()) {
            if (t instanceof SQLException x) {
                if (test.test(x)) {
                    return true;
                }
                SQLException next = x.getNextException();
                if (next != null && next != t.getCause() && find(next, test, seen)) {
                    return true;
                }
            }
        }
        return false;
    }
}
