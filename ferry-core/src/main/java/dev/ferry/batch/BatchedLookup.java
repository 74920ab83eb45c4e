package dev.ferry.batch;

import dev.ferry.Priority;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;

/**
 * Batched point lookups: many callers each asking for one key become a few {@code WHERE id = ANY(?)} queries.
 *
 * <pre>{@code
 * BatchedLookup<Long, User> users = BatchedLookup.builder(dataSource, Long.class)
 *         .sql("SELECT id, name FROM users WHERE id IN (:keys)")
 *         .key(rs -> rs.getLong("id"))
 *         .row(rs -> new User(rs.getLong("id"), rs.getString("name")))
 *         .build();
 * Optional<User> u = users.get(42L);            // blocking, or users.load(42L) for a future
 * }</pre>
 *
 * <p>Batching follows {@link Batcher}'s rules (natural batching, deadlines, priority bypass, kill switch). A key
 * with no row gives an empty result (or the builder's {@code missingValue}); a key with several rows gives them all through {@link #loadAll}. Lookups
 * are reads, so connection faults are retried.
 */
public final class BatchedLookup<K, V> implements AutoCloseable {

    private final Batcher<K, List<V>> batcher;
    private final V missing;

    private BatchedLookup(Batcher<K, List<V>> batcher, V missing) {
        this.batcher = batcher;
        this.missing = missing;
    }

    /** The first row, the user's value for a missing key, or empty. */
    private Optional<V> first(List<V> rows) {
        return rows == null || rows.isEmpty() ? Optional.ofNullable(missing) : Optional.of(rows.get(0));
    }

    public static <K, V> Builder<K, V> builder(DataSource dataSource, Class<K> keyType) {
        return new Builder<>(dataSource, keyType);
    }

    /** The first row for the key, or empty. */
    public CompletableFuture<Optional<V>> load(K key) {
        return load(key, Priority.NORMAL);
    }

    public CompletableFuture<Optional<V>> load(K key, Priority priority) {
        return batcher.submit(key, priority).thenApply(this::first);
    }

    /** Every row for the key (one-to-many), possibly none. */
    public CompletableFuture<List<V>> loadAll(K key) {
        return batcher.submit(key).thenApply(rows -> rows == null ? List.of() : rows);
    }

    /** Blocking {@link #load}; runs the batch on the calling thread when a slot is free. */
    public Optional<V> get(K key) throws SQLException {
        return first(batcher.call(key, Priority.NORMAL));
    }

    /** Blocking {@link #loadAll}. */
    public List<V> getAll(K key) throws SQLException {
        List<V> rows = batcher.call(key, Priority.NORMAL);
        return rows == null ? List.of() : rows;
    }

    public BatchStats stats() {
        return batcher.stats();
    }

    /** The kill switch: off, every lookup runs alone. */
    public void setEnabled(boolean enabled) {
        batcher.setEnabled(enabled);
    }

    @Override
    public void close() {
        batcher.close();
    }

    /** Lookup settings; {@link #build()} validates them. */
    public static final class Builder<K, V> extends BatchSettings<Builder<K, V>> {
        private final Class<K> keyType;
        private String sql;
        private String arrayType;
        private RowReader<K> key;
        private RowReader<V> row;
        private V missing;

        /** Lookups default to 256 keys per query: measured on PostgreSQL, 1.5x the throughput of 100. */
        private Builder(DataSource dataSource, Class<K> keyType) {
            super(dataSource, 256);
            this.keyType = Objects.requireNonNull(keyType, "keyType");
        }

        /** The query, with exactly one {@code IN (:keys)} where the key list goes. */
        public Builder<K, V> sql(String sql) {
            this.sql = sql;
            return this;
        }

        /** The PostgreSQL array element type, when the key class is not one Ferry knows (Long, Integer, ...). */
        public Builder<K, V> arrayType(String arrayType) {
            this.arrayType = arrayType;
            return this;
        }

        /** Reads the row's key, to match rows to callers. */
        public Builder<K, V> key(RowReader<K> key) {
            this.key = key;
            return this;
        }

        public Builder<K, V> row(RowReader<V> row) {
            this.row = row;
            return this;
        }

        /** What {@code load}/{@code get} return for a key with no row, instead of an empty Optional. */
        public Builder<K, V> missingValue(V value) {
            this.missing = value;
            return this;
        }

        public BatchedLookup<K, V> build() {
            KeyListSql keyList = KeyListSql.of(sql, keyType, arrayType);
            if (key == null) {
                throw new IllegalArgumentException("key: got null; allowed: a reader of the row's key, "
                        + "e.g. rs -> rs.getLong(\"id\")");
            }
            if (row == null) {
                throw new IllegalArgumentException("row: got null; allowed: a reader of the row's value");
            }
            RowReader<K> keyReader = key;
            RowReader<V> rowReader = row;
            int queryTimeout = statementTimeoutSeconds();
            Boolean[] dialect = new Boolean[1]; // PostgreSQL or not: asked once, on the first batch
            BatchFunction<K, List<V>> fn = keys -> {
                try (Connection c = dataSource.getConnection()) {
                    Boolean known = dialect[0];
                    boolean postgres = known != null ? known : (dialect[0] = KeyListSql.isPostgres(c));
                    try (PreparedStatement ps = c.prepareStatement(keyList.sql(postgres, keys.size()))) {
                        ps.setQueryTimeout(queryTimeout);
                        keyList.bind(c, ps, postgres, keys);
                        Map<K, List<V>> out = new HashMap<>(keys.size() * 2);
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                out.computeIfAbsent(keyReader.read(rs), k -> new ArrayList<>(1)).add(rowReader.read(rs));
                            }
                        }
                        return out;
                    }
                }
            };
            return new BatchedLookup<>(batcher(fn, "lookup", true), missing); // reads: connection faults are retried
        }
    }
}
