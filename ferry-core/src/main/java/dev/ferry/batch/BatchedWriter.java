package dev.ferry.batch;

import dev.ferry.Priority;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
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
 * its own update count. If the batch rolls back, no caller is told it succeeded. If the COMMIT's outcome is
 * unknown (the connection was lost during it), every caller of the batch gets {@link OutcomeUnknownException}
 * and the batch is never re-executed.
 *
 * <p><b>Error isolation.</b> A batch that fails for a row's reason (a constraint 23xxx, a bad value 22xxx) is
 * rolled back, split in two and retried, so the good rows commit and each bad row fails with its own error.
 * A binder that throws fails its own request before anything is sent; the other rows go on. Serialization
 * failures and deadlocks (40001, 40P01) are retried with jittered backoff. Anything else (bad SQL, a lock
 * timeout, a lost connection) fails the batch's callers at once with the real error, without re-execution.
 *
 * <p><b>Cancel and interrupt.</b> Cancelling a write's future withdraws it if it has not been sent; a blocked
 * writer that is interrupted after its write was sent is told {@link OutcomeUnknownException}: it may commit.
 * Writes always run on the batcher's executor, where a caller's interrupt cannot reach their I/O.
 *
 * <p><b>Generated keys.</b> Built with {@code returningKey("id")}, {@link #submitForKey} gives each caller its
 * own row's generated key after COMMIT.
 *
 * <p><b>Update counts.</b> A write's count is what the driver reported for its row, including JDBC's
 * {@link Statement#SUCCESS_NO_INFO} (-2) when the driver rewrote the batch and could not say (pgjdbc's
 * {@code reWriteBatchedInserts}, MariaDB's {@code rewriteBatchedStatements}): Ferry does not turn "no
 * information" into "1 row", since a row skipped by {@code ON CONFLICT DO NOTHING} would then read as written.
 *
 * <p><b>PostgreSQL.</b> A one-row {@code INSERT ... VALUES} (plain, or with {@code ON CONFLICT}) goes as one
 * {@code INSERT ... SELECT ... FROM unnest(...)} statement per batch, one typed array per parameter, typed as
 * pgjdbc types the binder's values: one round trip per batch on a plain URL. Upserts of one key in one batch run
 * in successive statements, in order. Update counts of DO NOTHING upserts become {@link Statement#SUCCESS_NO_INFO}
 * where one statement's total cannot say which rows were skipped; statement-level triggers fire once per batch.
 * What the arrays cannot carry goes as plain JDBC batches ({@code PostgresArrayWrites}); {@link
 * Builder#postgresArrays(boolean) postgresArrays(false)} turns them off.
 *
 * <p><b>Binders.</b> A binder sets every parameter of its write (values are cleared before each write, so none is
 * borrowed from the write before) and does nothing else: it may run more than once for a write (when its batch
 * is sent again as a plain JDBC batch).
 *
 * <p>Every request is its own batch entry, even if equal to another: two callers inserting the same row are two
 * writes (the second may violate a key), never merged.
 */
public final class BatchedWriter<R> implements AutoCloseable {

    private final Batcher<Write<R>, Written> batcher;
    private final boolean returnsKeys;
    /** Null when the statement cannot go as PostgreSQL arrays, or they are off. */
    private final PostgresArrayWrites arrays;

    private BatchedWriter(Batcher<Write<R>, Written> batcher, boolean returnsKeys, PostgresArrayWrites arrays) {
        this.batcher = batcher;
        this.returnsKeys = returnsKeys;
        this.arrays = arrays;
    }

    /** Why batches no longer go as PostgreSQL arrays (null while they do, or never could): for tests. */
    String arraysOffBecause() {
        return arrays == null ? "not applicable" : arrays.refusedBecause();
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
        return batcher.request(new Write<>(Objects.requireNonNull(request, "request")), priority, false).future
                .map(w -> w == null ? 0 : w.count());
    }

    /**
     * Writes and waits for the commit; returns the update count (or {@link Statement#SUCCESS_NO_INFO}).
     *
     * @throws OutcomeUnknownException if the COMMIT's outcome is unknown, or this thread was interrupted after the
     *                                 write was sent
     * @throws SQLException            the write's own error, a timeout, or an interrupt before it was sent
     */
    public int write(R request) throws SQLException {
        Written w = batcher.await(batcher.request(new Write<>(Objects.requireNonNull(request, "request")),
                Priority.NORMAL, true));
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
        return batcher.request(new Write<>(Objects.requireNonNull(request, "request")), Priority.NORMAL, false)
                .future.map(Written::key);
    }

    /** Inserts and waits for the commit; returns the generated key. */
    public long insertForKey(R request) throws SQLException {
        requireKeys();
        Written w = batcher.await(batcher.request(new Write<>(Objects.requireNonNull(request, "request")),
                Priority.NORMAL, true));
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
     * Runs one batch in one transaction ({@link Transactions}); returns each write's update count (and generated
     * key, when {@code keyColumn} is set) once COMMIT has returned. Drivers return generated keys in batch order,
     * so the i-th key belongs to the i-th write sent. A write whose binder throws fails alone and is not sent; if
     * none is left, nothing is executed and the transaction rolls back.
     *
     * @throws OutcomeUnknownException if COMMIT failed in a way that does not say it rolled back
     * @throws SQLException            anything before COMMIT (then nothing committed), or a COMMIT the database
     *                                 rolled back (serialization failure, deferred constraint)
     */
    static <R> Map<Write<R>, Written> executeInTransaction(Connection c, String sql, ParameterBinder<R> binder,
                                                          List<Write<R>> writes, int queryTimeoutSeconds,
                                                          String keyColumn) throws SQLException {
        KeyedResult<Write<R>, Written> out = new KeyedResult<>(writes.size());
        return Transactions.run(c, () -> {
            List<Write<R>> sent = new ArrayList<>(writes.size());
            try (PreparedStatement ps = keyColumn == null ? c.prepareStatement(sql)
                    : c.prepareStatement(sql, new String[] {keyColumn})) {
                ps.setQueryTimeout(queryTimeoutSeconds);
                for (Write<R> w : writes) {
                    try {
                        ps.clearParameters(); // each write sets all its parameters: none is borrowed from the last
                        binder.bind(ps, w.request);
                        ps.addBatch();
                        sent.add(w);
                    } catch (SQLException | RuntimeException e) {
                        out.fail(w, binderFailed(e));
                    }
                }
                if (sent.isEmpty()) {
                    return out;
                }
                int[] counts = ps.executeBatch();
                List<Long> keys = new ArrayList<>();
                if (keyColumn != null) {
                    try (ResultSet rs = ps.getGeneratedKeys()) {
                        while (rs.next()) {
                            keys.add(rs.getLong(1));
                        }
                    }
                    if (keys.size() != sent.size()) {
                        throw new SQLException("expected " + sent.size() + " generated keys from the batch, the "
                                + "driver returned " + keys.size() + "; generated keys need one row per "
                                + "statement (no rewriting into multi-row statements)", "HY000");
                    }
                }
                for (int i = 0; i < sent.size(); i++) { // completed only once COMMIT returned (Transactions.run)
                    int n = i < counts.length ? counts[i] : Statement.SUCCESS_NO_INFO;
                    out.put(sent.get(i), new Written(n, keyColumn == null ? null : keys.get(i)));
                }
                return out;
            }
        }, result -> !result.isEmpty());
    }

    /** What a write whose binder threw fails with (it was not sent): the binder's SQLState, if it gave one. */
    static SQLException binderFailed(Exception e) {
        return new SQLException("the binder failed for this write, which was not sent: " + e,
                e instanceof SQLException x && x.getSQLState() != null ? x.getSQLState() : "HY000", e);
    }

    /** Writer settings; {@link #build()} validates them. */
    public static final class Builder<R> extends BatchSettings<Builder<R>> {
        private String sql;
        private ParameterBinder<R> binder;
        private String keyColumn;
        private boolean postgresArrays = true;

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

        /**
         * On PostgreSQL, send each batch of a one-row {@code INSERT ... VALUES} (plain, or with {@code ON CONFLICT})
         * as one {@code INSERT ... SELECT ... FROM unnest(...)} statement with one typed array per parameter: one
         * round trip per batch without any URL option (default: on). Off, batches go as JDBC batches, whose
         * per-row update counts are exact for DO NOTHING upserts too. Other databases always get JDBC batches.
         */
        public Builder<R> postgresArrays(boolean on) {
            this.postgresArrays = on;
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
            String key = keyColumn;
            DataSource source = dataSource;
            PostgresArrayWrites arrays = postgresArrays ? PostgresArrayWrites.of(statement, nameOr("writer")) : null;
            AtomicReference<KeyListSql.Dialect> dialect = new AtomicReference<>(); // asked once, on the first batch
            BatchCall<Write<R>, Written> call = (writes, remaining, priority) -> {
                long deadline = System.nanoTime() + remaining; // the statement gets what the pool wait left
                return onConnection(source, remaining, priority, c -> {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new java.sql.SQLTimeoutException("the deadline passed while waiting for a connection; "
                                + "the batch was not executed", "HYT00");
                    }
                    if (arrays != null && arrays.usable() && KeyListSql.Dialect.of(dialect, c) == KeyListSql.Dialect.POSTGRES) {
                        PostgresArrayWrites.Refused refused;
                        try {
                            return arrays.executeInTransaction(c, b, writes, deadline, key);
                        } catch (PostgresArrayWrites.Refused r) {
                            refused = r;
                        }
                        if (Transactions.rollbackFailed(refused)) { // the transaction may still be open
                            throw new SQLException("the batch could not be sent as PostgreSQL arrays ("
                                    + refused.getMessage() + ") and rolling it back failed; no COMMIT was sent, "
                                    + "so nothing was committed, and it is not sent again", "08006", refused);
                        }
                        left = deadline - System.nanoTime();
                        if (left <= 0) {
                            throw new java.sql.SQLTimeoutException("the deadline passed before the batch could be "
                                    + "sent again as a plain JDBC batch (" + refused.getMessage() + "); nothing was "
                                    + "committed", "HYT00");
                        }
                        Map<Write<R>, Written> plain;
                        try {
                            plain = executeInTransaction(c, statement, b, writes, statementTimeoutSeconds(left), key);
                        } catch (SQLException | RuntimeException e) {
                            arrays.refused(refused, false);
                            throw e;
                        }
                        arrays.refused(refused, true); // the plain batch did what the arrays could not
                        return plain;
                    }
                    return executeInTransaction(c, statement, b, writes, statementTimeoutSeconds(left), key);
                });
            };
            // Writes: connection faults are not retried, and callers never run batches (see Batcher).
            return new BatchedWriter<>(batcher(call, "writer", false), key != null, arrays);
        }
    }
}
