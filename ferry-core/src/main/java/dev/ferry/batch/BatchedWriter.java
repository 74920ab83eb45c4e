package dev.ferry.batch;

import dev.ferry.Priority;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;

/**
 * Batched single-row writes: INSERT, UPSERT ({@code ON CONFLICT} / {@code ON DUPLICATE KEY}), UPDATE or DELETE
 * requests from many callers, run together as one JDBC batch in one transaction.
 *
 * <pre>{@code
 * BatchedWriter<Event> events = BatchedWriter.<Event>builder(dataSource)
 *         .sql("INSERT INTO events (id, kind) VALUES (?, ?)")
 *         .bind((ps, e) -> { ps.setLong(1, e.id()); ps.setString(2, e.kind()); })
 *         .build();
 * int rows = events.write(new Event(1, "login"));   // returns after COMMIT
 * }</pre>
 *
 * <p><b>Acknowledged after commit.</b> A caller's future completes only after the batch's COMMIT returned, with
 * its own update count. If the batch rolls back, no caller is told it succeeded.
 *
 * <p><b>Error isolation.</b> A batch that fails for a data reason (a constraint, a bad value) is rolled back,
 * split in two and retried, so the good rows commit and each bad row fails with its own error. Serialization
 * failures and deadlocks (40001, 40P01) are retried. A connection fault is <em>not</em> retried: if it struck
 * during COMMIT the batch may have committed, and retrying could write twice. Its callers get the error, marked
 * as an unknown outcome when it happened at commit.
 *
 * <p><b>Generated keys.</b> Built with {@code returningKey("id")}, {@link #submitForKey} gives each caller its
 * own row's generated key after COMMIT.
 *
 * <p>Every request is its own batch entry, even if equal to another: two callers inserting the same row are two
 * writes (the second may violate a key), never merged.
 */
public final class BatchedWriter<R> implements AutoCloseable {

    private final Batcher<Write<R>, Written> batcher;
    private final boolean returnsKeys;

    private BatchedWriter(Batcher<Write<R>, Written> batcher, boolean returnsKeys) {
        this.batcher = batcher;
        this.returnsKeys = returnsKeys;
    }

    /** One write's outcome: its update count, and its generated key when the writer was built to return one. */
    record Written(int count, Long key) {
    }

    public static <R> Builder<R> builder(DataSource dataSource) {
        return new Builder<>(dataSource);
    }

    /** Queues a write; the future completes with its update count after the batch commits. */
    public CompletableFuture<Integer> submit(R request) {
        return submit(request, Priority.NORMAL);
    }

    public CompletableFuture<Integer> submit(R request, Priority priority) {
        return batcher.submit(new Write<>(Objects.requireNonNull(request, "request")), priority)
                .thenApply(w -> w == null ? 0 : w.count());
    }

    /** Writes and waits for the commit; returns the update count. Runs the batch itself when a slot is free. */
    public int write(R request) throws SQLException {
        Written w = batcher.call(new Write<>(Objects.requireNonNull(request, "request")), Priority.NORMAL);
        return w == null ? 0 : w.count();
    }

    /**
     * Queues an insert; the future completes after COMMIT with the row's generated key (from the column named
     * in {@link Builder#returningKey}).
     *
     * @throws IllegalStateException if the writer was not built with {@code returningKey}
     */
    public CompletableFuture<Long> submitForKey(R request) {
        requireKeys();
        return batcher.submit(new Write<>(Objects.requireNonNull(request, "request"))).thenApply(Written::key);
    }

    /** Inserts and waits for the commit; returns the generated key. */
    public long insertForKey(R request) throws SQLException {
        requireKeys();
        Written w = batcher.call(new Write<>(Objects.requireNonNull(request, "request")), Priority.NORMAL);
        if (w == null || w.key() == null) {
            throw new SQLException("the database returned no generated key for this row", "HY000");
        }
        return w.key();
    }

    private void requireKeys() {
        if (!returnsKeys) {
            throw new IllegalStateException("this writer was built without returningKey(column); build it with "
                    + "returningKey to get generated keys");
        }
    }

    public BatchStats stats() {
        return batcher.stats();
    }

    /** The kill switch: off, every write runs alone in its own transaction. */
    public void setEnabled(boolean enabled) {
        batcher.setEnabled(enabled);
    }

    @Override
    public void close() {
        batcher.close();
    }

    /** A request with identity semantics, so equal requests from different callers are never merged. */
    static final class Write<R> {
        final R request;

        Write(R request) {
            this.request = request;
        }
    }

    /**
     * Runs one batch in one transaction; returns each write's update count (and generated key, when
     * {@code keyColumn} is set) once COMMIT has returned. Drivers return generated keys in batch order, so the
     * i-th key belongs to the i-th write.
     */
    static <R> Map<Write<R>, Written> executeInTransaction(DataSource dataSource, String sql,
                                                          ParameterBinder<R> binder, List<Write<R>> writes,
                                                          int queryTimeoutSeconds, String keyColumn)
            throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                int[] counts;
                List<Long> keys = new ArrayList<>();
                try (PreparedStatement ps = keyColumn == null ? c.prepareStatement(sql)
                        : c.prepareStatement(sql, new String[] {keyColumn})) {
                    ps.setQueryTimeout(queryTimeoutSeconds);
                    for (Write<R> w : writes) {
                        binder.bind(ps, w.request);
                        ps.addBatch();
                    }
                    counts = ps.executeBatch();
                    if (keyColumn != null) {
                        try (ResultSet rs = ps.getGeneratedKeys()) {
                            while (rs.next()) {
                                keys.add(rs.getLong(1));
                            }
                        }
                        if (keys.size() != writes.size()) {
                            throw new SQLException("expected " + writes.size() + " generated keys from the batch, the "
                                    + "driver returned " + keys.size() + "; generated keys need one row per "
                                    + "statement (no rewriting into multi-row statements)", "HY000");
                        }
                    }
                }
                try {
                    c.commit();
                } catch (SQLException e) {
                    SQLException unknown = new SQLException("COMMIT failed (" + e.getMessage() + "); if the connection "
                            + "was lost the batch's outcome is unknown", e.getSQLState(), e.getErrorCode(), e);
                    throw unknown;
                }
                Map<Write<R>, Written> out = new HashMap<>(writes.size() * 2);
                for (int i = 0; i < writes.size(); i++) {
                    int n = i < counts.length ? counts[i] : Statement.SUCCESS_NO_INFO;
                    out.put(writes.get(i), new Written(n == Statement.SUCCESS_NO_INFO ? 1 : n,
                            keyColumn == null ? null : keys.get(i)));
                }
                return out;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException rollbackFailure) {
                    e.addSuppressed(rollbackFailure);
                }
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

    /** Writer settings; {@link #build()} validates them. */
    public static final class Builder<R> extends BatchSettings<Builder<R>> {
        private String sql;
        private ParameterBinder<R> binder;
        private String keyColumn;

        private Builder(DataSource dataSource) {
            super(dataSource, 100);
        }

        /** One statement with {@code ?} parameters for one row. */
        public Builder<R> sql(String sql) {
            this.sql = sql;
            return this;
        }

        public Builder<R> bind(ParameterBinder<R> binder) {
            this.binder = binder;
            return this;
        }

        /** For inserts: return each row's generated key from this column (see {@link #submitForKey}). */
        public Builder<R> returningKey(String column) {
            if (column == null || column.isBlank()) {
                throw new IllegalArgumentException("returningKey: got " + (column == null ? "null" : "a blank name")
                        + "; allowed: the name of the generated key column");
            }
            this.keyColumn = column;
            return this;
        }

        public BatchedWriter<R> build() {
            if (sql == null || sql.isBlank()) {
                throw new IllegalArgumentException("sql: got " + (sql == null ? "null" : "a blank statement")
                        + "; allowed: one INSERT, UPSERT, UPDATE or DELETE statement with ? parameters");
            }
            if (binder == null) {
                throw new IllegalArgumentException("bind: got null; allowed: a binder of one request's parameters");
            }
            String statement = sql;
            ParameterBinder<R> b = binder;
            // Connection faults are not retried: one during COMMIT leaves the outcome unknown.
            int queryTimeout = statementTimeoutSeconds();
            String key = keyColumn;
            return new BatchedWriter<>(batcher(writes -> executeInTransaction(dataSource, statement, b, writes,
                    queryTimeout, key), "writer", false), key != null);
        }
    }
}
