package dev.ferry.batch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
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
 */
public final class TransactionBatch {

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

    /**
     * Runs every statement in order, then commits; on any error rolls everything back and throws an exception
     * naming the statement that failed.
     *
     * @return each statement's update count, in order
     */
    public List<Integer> execute(DataSource dataSource) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            List<Integer> counts = new ArrayList<>(statements.size());
            int index = 0;
            try {
                for (Sql s : statements) {
                    try (PreparedStatement ps = c.prepareStatement(s.sql())) {
                        for (int i = 0; i < s.parameters().size(); i++) {
                            ps.setObject(i + 1, s.parameters().get(i));
                        }
                        counts.add(ps.executeUpdate());
                    }
                    index++;
                }
                c.commit();
                return counts;
            } catch (SQLException e) {
                rollback(c, e);
                throw index < statements.size()
                        ? new SQLException("statement " + (index + 1) + " of " + statements.size() + " failed, all "
                                + "rolled back: " + e.getMessage(), e.getSQLState(), e.getErrorCode(), e)
                        : e;
            } catch (RuntimeException e) {
                rollback(c, e);
                throw e;
            } finally {
                try {
                    c.setAutoCommit(autoCommit);
                } catch (SQLException ignored) {
                    // the pool resets it on return anyway
                }
            }
        }
    }

    private static void rollback(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }
}
