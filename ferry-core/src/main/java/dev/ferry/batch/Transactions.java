package dev.ferry.batch;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Predicate;

/**
 * The one way Ferry's batch helpers run a transaction (the writer's batch, a TransactionBatch alone, a group
 * commit): autocommit off, the work, then COMMIT (or ROLLBACK when the work says nothing is worth committing).
 *
 * <ul>
 *   <li>A COMMIT that fails without the database saying it rolled back (a lost connection, or anything unchecked
 *       from the driver) becomes {@link OutcomeUnknownException}: the caller must never re-execute it.
 *   <li>Any other failure, checked or not, rolls back.
 *   <li>Autocommit is put back only after a COMMIT or a successful ROLLBACK. Switching it on with a transaction
 *       still open would commit it, so after a failed rollback the connection is left as it is, and the pool
 *       rolls it back (or retires it) when it is closed. Putting autocommit back never throws: after a COMMIT
 *       that would turn a committed batch into a failed one, which could be retried and written twice.
 * </ul>
 */
final class Transactions {

    private Transactions() {
    }

    /** The work inside the transaction. */
    @FunctionalInterface
    interface Work<T> {
        T run() throws SQLException;
    }

    /**
     * Runs {@code work} in a transaction on {@code c}, then commits if {@code worthCommitting} accepts its result,
     * or rolls back.
     *
     * @throws OutcomeUnknownException if COMMIT failed without the database saying it rolled back
     */
    static <T> T run(Connection c, Work<T> work, Predicate<T> worthCommitting) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        boolean finished = false; // committed or rolled back: only then is autocommit put back
        try {
            T result = work.run();
            if (worthCommitting.test(result)) {
                commit(c);
            } else {
                c.rollback();
            }
            finished = true;
            return result;
        } catch (Throwable e) {
            finished = !(e instanceof OutcomeUnknownException) && rollback(c, e);
            throw e;
        } finally {
            if (finished) {
                try {
                    c.setAutoCommit(autoCommit);
                } catch (SQLException | RuntimeException ignored) {
                    // see the class notes: never a failure after a COMMIT; the pool resets it on return anyway
                }
            }
        }
    }

    /** Commits; a failure that does not say the transaction rolled back becomes {@link OutcomeUnknownException}. */
    private static void commit(Connection c) throws SQLException {
        try {
            c.commit();
        } catch (RuntimeException | Error e) {
            // A driver that throws something unexpected from commit() says nothing about what happened.
            throw new OutcomeUnknownException("COMMIT failed with " + e + "; the transaction may or may not have "
                    + "committed, so it is not retried", e);
        } catch (SQLException e) {
            if (ErrorPolicy.commitCertainlyRolledBack(e)) {
                throw new SQLException("COMMIT failed and the database rolled the transaction back: "
                        + e.getMessage(), e.getSQLState(), e.getErrorCode(), e);
            }
            throw new OutcomeUnknownException("COMMIT failed (" + e.getMessage() + "); the transaction may or may "
                    + "not have committed, so it is not retried", e);
        }
    }

    /** Added to a failure as suppressed when the ROLLBACK after it failed too: the transaction may still be open. */
    static final class RollbackFailed extends SQLException {
        private static final long serialVersionUID = 1L;

        RollbackFailed(Throwable cause) {
            super("the ROLLBACK after this failure failed too: " + cause, "08006", cause);
        }
    }

    /** Whether the ROLLBACK after {@code failure} failed ({@link RollbackFailed} among its suppressed). */
    static boolean rollbackFailed(Throwable failure) {
        for (Throwable s : failure.getSuppressed()) {
            if (s instanceof RollbackFailed) {
                return true;
            }
        }
        return false;
    }

    /** Rolls back after {@code cause}; true if that worked (a failure is added to {@code cause}). */
    private static boolean rollback(Connection c, Throwable cause) {
        try {
            c.rollback();
            return true;
        } catch (SQLException | RuntimeException rollbackFailure) {
            cause.addSuppressed(new RollbackFailed(rollbackFailure));
            return false;
        }
    }
}
