package dev.ferry.batch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;

/**
 * Several statements on one connection in one transaction: all commit or none do. For work that must be atomic
 * across tables, such as saving a token and writing its audit-log row.
 *
 * <pre>{@code
 * List<Integer> counts = TransactionBatch.of(
 *         TransactionBatch.statement("UPDATE tokens SET value = ? WHERE user_id = ?", token, userId),
 *         TransactionBatch.statement("INSERT INTO audit_log (user_id, action) VALUES (?, 'token-saved')", userId))
 *     .execute(dataSource);
 * }</pre>
 *
 * <p>{@link #execute(DataSource, Duration)} keeps a deadline: each statement's timeout is the time left, a
 * serialization failure or deadlock (40001, 40P01) is retried with jittered backoff while time is left, and a
 * COMMIT whose outcome is unknown throws {@link OutcomeUnknownException} and is never retried. Many callers'
 * transactions can share one COMMIT through {@link GroupCommit}.
 */
public final class TransactionBatch {

    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_RETRIES = 3;

    /** One statement and its parameters. */
    public record Sql(String sql, List<Object> parameters) {
        public Sql {
            Objects.requireNonNull(sql, "sql");
            parameters = Collections.unmodifiableList(new ArrayList<>(parameters)); // NULL is a valid parameter
        }
    }

    private final List<Sql> statements;

    private TransactionBatch(List<Sql> statements) {
        if (statements.isEmpty()) {
            throw new IllegalArgumentException("statements: got none; allowed: at least one statement");
        }
        this.statements = List.copyOf(statements);
    }

    public static Sql statement(String sql, Object... parameters) {
        return new Sql(sql, Arrays.asList(parameters));
    }

    public static TransactionBatch of(Sql... statements) {
        return new TransactionBatch(Arrays.asList(statements));
    }

    public static TransactionBatch of(List<Sql> statements) {
        return new TransactionBatch(statements);
    }

    List<Sql> statements() {
        return statements;
    }

    /** {@link #execute(DataSource, Duration)} with a 30 s deadline. */
    public List<Integer> execute(DataSource dataSource) throws SQLException {
        return execute(dataSource, DEFAULT_TIMEOUT);
    }

    /**
     * Runs every statement in order, then commits; on any error rolls everything back and throws an exception
     * naming the statement that failed. Retries serialization failures and deadlocks while time is left.
     *
     * @return each statement's update count, in order
     * @throws OutcomeUnknownException if COMMIT failed without saying the transaction rolled back
     * @throws SQLTimeoutException     if the deadline passed (a statement timed out, or no time was left to retry)
     */
    public List<Integer> execute(DataSource dataSource, Duration timeout) throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int attempt = 0; ; attempt++) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                throw new SQLTimeoutException("transaction not run: its " + timeout.toMillis() + "ms deadline "
                        + "passed" + (attempt > 0 ? " while retrying (earlier attempts were rolled back)" : ""),
                        "HYT00");
            }
            try {
                return BatchSettings.onConnection(dataSource, remaining, dev.ferry.Priority.NORMAL, c -> runAlone(c, deadline));
            } catch (SQLException e) {
                if (e instanceof OutcomeUnknownException || attempt >= MAX_RETRIES
                        || !ErrorPolicy.isSerializationFailure(e)) {
                    throw e;
                }
                long base = TimeUnit.MILLISECONDS.toNanos(5) << attempt;
                long sleep = base / 2 + ThreadLocalRandom.current().nextLong(base);
                if (deadline - System.nanoTime() - sleep <= 0) {
                    throw e;
                }
                LockSupport.parkNanos(sleep);
            }
        }
    }

    private List<Integer> runAlone(Connection c, long deadline) throws SQLException {
        return Transactions.run(c, () -> runOn(c, deadline), counts -> true);
    }

    /**
     * Runs the statements on a connection already in a transaction, each with the time left until
     * {@code deadline} (System.nanoTime) as its timeout; does not commit.
     */
    List<Integer> runOn(Connection c, long deadline) throws SQLException {
        List<Integer> counts = new ArrayList<>(statements.size());
        int index = 0;
        try {
            for (Sql s : statements) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SQLTimeoutException("the deadline passed before this statement was sent", "HYT00");
                }
                try (PreparedStatement ps = c.prepareStatement(s.sql())) {
                    ps.setQueryTimeout(BatchSettings.statementTimeoutSeconds(left));
                    for (int i = 0; i < s.parameters().size(); i++) {
                        ps.setObject(i + 1, s.parameters().get(i));
                    }
                    counts.add(ps.executeUpdate());
                }
                index++;
            }
        } catch (SQLException e) {
            throw new SQLException("statement " + (index + 1) + " of " + statements.size() + " failed, all "
                    + "rolled back: " + e.getMessage(), e.getSQLState(), e.getErrorCode(), e);
        }
        return counts;
    }
}
