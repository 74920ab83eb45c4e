package dev.ferry.batch;

import dev.ferry.Priority;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
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
 * Map<Long, User> page = users.loadMany(ids).get(); // a page of ids at once, coalesced with other callers'
 * }</pre>
 *
 * <p><b>Composite keys</b>: a record (or a List) as the key and a column tuple before the key list:
 * <pre>{@code
 * record OrderKey(long tenantId, long id) {}
 * BatchedLookup<OrderKey, Order> orders = BatchedLookup.builder(dataSource, OrderKey.class)
 *         .sql("SELECT tenant_id, id, total FROM orders WHERE (tenant_id, id) IN (:keys)")
 *         .key(rs -> new OrderKey(rs.getLong(1), rs.getLong(2)))
 *         .row(rs -> new Order(rs.getLong(2), rs.getBigDecimal(3)))
 *         .build();
 * }</pre>
 * A value the same for every key goes in {@link Builder#params} instead ({@code WHERE tenant_id = ? AND id IN
 * (:keys)}).
 *
 * <p>Batching follows {@link Batcher}'s rules (natural batching, deadlines, priority bypass, kill switch). A key
 * with no row gives an empty result (or the builder's {@code missingValue}); a key with several rows gives them
 * all through {@link #loadAll}, as an unmodifiable list (callers asking for the same key share it). A null key
 * fails its own future. Lookups are reads, so connection faults are retried. An exception from the row reader
 * fails only the key whose row it was reading; one from the key reader is isolated by splitting the batch.
 *
 * <p>Rows are matched to callers with the key's {@code equals}. Where the database compares keys differently
 * (a case-insensitive collation on MySQL/MariaDB), set a {@link Builder#keyNormalizer}: it is applied to the
 * key a caller asks for and to the key read from each row. BigDecimal keys are compared ignoring scale and
 * OffsetDateTime keys by their instant, whether or not a normalizer is set; so are such elements of a List key.
 * A record key with such components needs a normalizer (checked at build).
 */
public final class BatchedLookup<K, V> implements AutoCloseable {

    private final Batcher<K, List<V>> batcher;
    private final Function<K, K> normalizer;
    private final V missing;

    private BatchedLookup(Batcher<K, List<V>> batcher, Function<K, K> normalizer, V missing) {
        this.batcher = batcher;
        this.normalizer = normalizer;
        this.missing = missing;
    }

    /** The first row, the user's value for a missing key, or empty. */
    private Optional<V> first(List<V> rows) {
        return rows == null || rows.isEmpty() ? Optional.ofNullable(missing) : Optional.ofNullable(rows.get(0));
    }

    private static <V> List<V> all(List<V> rows) {
        return rows == null ? List.of() : rows;
    }

    public static <K, V> Builder<K, V> builder(DataSource dataSource, Class<K> keyType) {
        return new Builder<>(dataSource, keyType);
    }

    private K normalized(K key) {
        return key == null ? null : normalizer.apply(key);
    }

    /** The first row for the key, or empty. Cancelling the future withdraws the lookup if it was not sent. */
    public CompletableFuture<Optional<V>> load(K key) {
        return load(key, Priority.NORMAL);
    }

    public CompletableFuture<Optional<V>> load(K key, Priority priority) {
        return batcher.request(normalized(key), priority, false).future.map(this::first);
    }

    /**
     * The first row of each key, asked for at once: a caller with a page of ids in hand. The keys join the queue
     * together, under one lock, beside other callers' keys, and go out in batches of up to the batch size: a page
     * of 256 keys sent to an idle lookup is one statement. A key given twice is asked for once: keys are
     * distinct by {@code equals} of the keys given (before any key normalizer). The map holds them in the
     * collection's order of first appearance, each with its row, or
     * the builder's {@code missingValue}; a key with no row, or whose row's value is null, is left out.
     *
     * <p>If any key fails (a null key, a statement that failed, a timeout), the future fails at once with that
     * key's error, and the keys not yet sent are withdrawn. A page that cannot fit the queue (more than
     * {@code maxQueued} keys, or, with the REJECT overflow policy, more than the room left) is refused whole and
     * nothing is executed. A CRITICAL page skips the queue, as one batch per batch size. Cancelling the future
     * withdraws the keys not yet sent; other ways of completing it ({@code orTimeout}) do not.
     *
     * @throws NullPointerException if {@code keys} is null (a null key in it fails the future instead)
     */
    public CompletableFuture<Map<K, V>> loadMany(Collection<? extends K> keys) {
        return loadMany(keys, Priority.NORMAL);
    }

    /** {@link #loadMany(Collection)} at a priority. */
    public CompletableFuture<Map<K, V>> loadMany(Collection<? extends K> keys, Priority priority) {
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(priority, "priority");
        List<K> distinct;
        List<K> normalized;
        try {
            // De-duplicated here (a HashSet beside the list: cheaper than the LinkedHashSet and copy it replaced),
            // so a page of 500 authors' ids with 50 distinct is 50 requests and one statement.
            java.util.HashSet<K> seen = new java.util.HashSet<>(keys.size() * 4 / 3 + 1);
            distinct = new ArrayList<>(keys.size());
            normalized = new ArrayList<>(keys.size());
            for (K key : keys) {
                if (seen.add(key)) {
                    distinct.add(key);
                    normalized.add(normalized(key));
                }
            }
        } catch (RuntimeException e) { // a key normalizer that threw, a collection changed under us: nothing sent
            return CompletableFuture.failedFuture(new SQLException("loadMany: could not read the keys: " + e,
                    "HY000", e));
        }
        if (normalized.contains(null)) { // fails the page before any key is queued, so none is sent for nothing
            return CompletableFuture.failedFuture(batcher.nullKey());
        }
        java.util.concurrent.atomic.AtomicReference<List<Request<K, List<V>>>> page =
                new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(
                distinct.size() + 1); // + 1: released once the page is known, so it cannot finish before that
        CompletableFuture<Map<K, V>> all = new CompletableFuture<>() {
            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                List<Request<K, List<V>>> requests = page.get();
                if (requests != null) {
                    requests.forEach(r -> r.future.cancel(false)); // withdraws those not sent; the others complete
                }
                return super.cancel(mayInterruptIfRunning);
            }
        };
        Runnable finish = () -> {
            Map<K, V> out = new LinkedHashMap<>(distinct.size() * 4 / 3 + 1);
            List<Request<K, List<V>>> requests = page.get();
            for (int i = 0; i < distinct.size(); i++) {
                Optional<V> v = first(requests.get(i).future.join());
                if (v.isPresent()) {
                    out.put(distinct.get(i), v.get());
                }
            }
            all.complete(Collections.unmodifiableMap(out));
        };
        // Told on the completing thread as each key completes (no lock held): the first failure fails the page
        // and withdraws the keys not yet sent; the last success builds the map.
        Request.Listener<List<V>> listener = (rows, error) -> {
            if (error != null) {
                if (all.completeExceptionally(error)) {
                    List<Request<K, List<V>>> requests = page.get();
                    if (requests != null) {
                        requests.forEach(other -> other.future.cancel(false));
                    }
                }
                return;
            }
            if (left.decrementAndGet() == 0 && !all.isDone()) {
                finish.run();
            }
        };
        List<Request<K, List<V>>> requests = batcher.requestAll(normalized, priority, listener);
        page.set(requests);
        if (all.isDone()) { // failed while being queued: withdraw what did get queued
            requests.forEach(other -> other.future.cancel(false));
        } else if (left.decrementAndGet() == 0) {
            finish.run();
        }
        return all;
    }

    /** Every row for the key (one-to-many), possibly none. */
    public CompletableFuture<List<V>> loadAll(K key) {
        return batcher.request(normalized(key), Priority.NORMAL, false).future.map(BatchedLookup::all);
    }

    /** Blocking {@link #load}; on a platform thread it runs the batch itself when a slot is free. */
    public Optional<V> get(K key) throws SQLException {
        return first(batcher.await(batcher.request(normalized(key), Priority.NORMAL, true)));
    }

    /** Blocking {@link #loadAll}. */
    public List<V> getAll(K key) throws SQLException {
        return all(batcher.await(batcher.request(normalized(key), Priority.NORMAL, true)));
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
        private Function<K, K> normalizer;
        private Object[] params = new Object[0];

        /** Lookups default to 256 keys per query: measured on PostgreSQL, 1.5x the throughput of 100. */
        private Builder(DataSource dataSource, Class<K> keyType) {
            super(dataSource, 256);
            this.keyType = Objects.requireNonNull(keyType, "keyType");
        }

        /**
         * The query, with exactly one {@code IN (:keys)} where the key list goes, and a {@code ?} for each value of
         * {@link #params} (none by default).
         */
        public Builder<K, V> sql(String sql) {
            this.sql = sql;
            return this;
        }

        /**
         * Fixed values for the query's {@code ?} placeholders, in order, bound in every statement around the key
         * list: {@code sql("SELECT id, name FROM users WHERE tenant_id = ? AND id IN (:keys)").params(tenantId)}.
         * They are the same for every key of this lookup (one lookup per tenant, or a composite key otherwise).
         * Where the database limits parameters per statement, they count against it.
         */
        public Builder<K, V> params(Object... values) {
            this.params = Objects.requireNonNull(values, "params").clone();
            return this;
        }

        /**
         * The PostgreSQL array element type, for a key class Ferry does not know (it knows Long, Integer, Short,
         * String, UUID, BigDecimal, LocalDate, LocalDateTime, OffsetDateTime, Instant and Boolean). For a
         * composite key, one type per column, comma-separated: {@code arrayType("int8, citext")}.
         */
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

        /**
         * Makes keys the database considers equal also equal in Java: applied to requested keys and to keys read
         * from rows before matching. For a case-insensitive collation: {@code keyNormalizer(s -> s.toLowerCase(Locale.ROOT))}.
         */
        public Builder<K, V> keyNormalizer(Function<K, K> normalizer) {
            this.normalizer = normalizer;
            return this;
        }

        @SuppressWarnings("unchecked")
        public BatchedLookup<K, V> build() {
            KeyListSql keyList = KeyListSql.of(sql, keyType, arrayType, params.length);
            if (!keyList.componentsComparedDifferently().isEmpty() && normalizer == null) {
                throw new IllegalArgumentException("keyType: got " + keyType.getName() + " with "
                        + keyList.componentsComparedDifferently() + ", whose equals differs from SQL's (BigDecimal "
                        + "counts scale, OffsetDateTime its offset), so rows read back would not match; allowed: "
                        + "those components with a keyNormalizer that normalizes them (stripTrailingZeros, "
                        + "withOffsetSameInstant(UTC)), or other types");
            }
            Object[] fixed = params.clone();
            if (key == null) {
                throw new IllegalArgumentException("key: got null; allowed: a reader of the row's key, "
                        + "e.g. rs -> rs.getLong(\"id\")");
            }
            if (row == null) {
                throw new IllegalArgumentException("row: got null; allowed: a reader of the row's value");
            }
            // Keys the database compares as equal must be equal in Java: BigDecimal ignoring scale, timestamps
            // with an offset by their instant (pgjdbc reads timestamptz back in UTC); then the user's normalizer.
            Function<K, K> builtIn = keyType == BigDecimal.class ? k -> (K) ((BigDecimal) k).stripTrailingZeros()
                    : keyType == OffsetDateTime.class
                            ? k -> (K) ((OffsetDateTime) k).withOffsetSameInstant(ZoneOffset.UTC)
                            : List.class.isAssignableFrom(keyType) ? k -> (K) sqlEqualElements((List<?>) k)
                            : Function.identity();
            Function<K, K> normalize = normalizer == null ? builtIn : normalizer.andThen(builtIn);
            RowReader<K> keyReader = key;
            RowReader<V> rowReader = row;
            DataSource source = dataSource;
            AtomicReference<KeyListSql.Dialect> dialect = new AtomicReference<>(); // asked once, on the first batch
            BatchCall<K, List<V>> fn = (keys, remaining, priority) -> {
                long deadline = System.nanoTime() + remaining;
                try (Connection c = connection(source, remaining, priority)) {
                    KeyListSql.Dialect d = KeyListSql.Dialect.of(dialect, c);
                    keyList.checkSupported(d);
                    KeyedResult<K, List<V>> out = new KeyedResult<>(keys.size());
                    List<K> sendable = keys;
                    for (K k : keys) {
                        String problem = keyList.problem(k);
                        if (problem != null) { // a List key of the wrong size fails alone, before anything is sent
                            out.fail(k, new SQLException(problem, "22023"));
                            if (sendable == keys) {
                                sendable = new ArrayList<>(keys);
                            }
                            sendable.remove(k);
                        }
                    }
                    keys = sendable;
                    int perStatement = keyList.maxKeys(d);
                    boolean severalRows = false;
                    for (int from = 0; from < keys.size(); from += perStatement) {
                        List<K> chunk = keys.subList(from, Math.min(keys.size(), from + perStatement));
                        if (keyList.matchesNothing(chunk)) {
                            continue; // a key column null in every key: no row, no statement
                        }
                        long left = deadline - System.nanoTime(); // after the pool wait and earlier chunks
                        if (left <= 0) {
                            throw new java.sql.SQLTimeoutException("the batch's deadline passed before all its "
                                    + "key lists were sent", "HYT00");
                        }
                        try (PreparedStatement ps = c.prepareStatement(keyList.sql(d, chunk.size()))) {
                            ps.setQueryTimeout(statementTimeoutSeconds(left));
                            keyList.bind(c, ps, d, chunk, fixed);
                            try (ResultSet rs = ps.executeQuery()) {
                                severalRows |= readRows(rs, keyReader, rowReader, normalize, out);
                            }
                        }
                    }
                    if (severalRows) { // one row per key (the usual case) is already an immutable singleton
                        out.replaceAll((k, rows) -> rows instanceof ArrayList<V> ? Collections.unmodifiableList(rows)
                                : rows);
                    }
                    return out;
                }
            };
            return new BatchedLookup<>(batcher(fn, "lookup", true), normalize, missing);
        }

        /** A List key with BigDecimal elements ignoring scale and OffsetDateTime elements by instant. */
        private static List<Object> sqlEqualElements(List<?> key) {
            List<Object> out = new ArrayList<>(key.size());
            for (Object e : key) {
                out.add(e instanceof BigDecimal d ? d.stripTrailingZeros()
                        : e instanceof OffsetDateTime t ? t.withOffsetSameInstant(ZoneOffset.UTC) : e);
            }
            return out;
        }

        /** Collects rows by normalized key; a row reader that throws fails only that key. True if a key had several. */
        private static <K, V> boolean readRows(ResultSet rs, RowReader<K> keyReader, RowReader<V> rowReader,
                                           Function<K, K> normalize, KeyedResult<K, List<V>> out)
                throws SQLException {
            boolean several = false;
            while (rs.next()) {
                K k = keyReader.read(rs); // a RuntimeException here cannot be pinned on a key: the batcher splits
                K nk = k == null ? null : normalize.apply(k);
                if (out.failures().containsKey(nk)) {
                    continue;
                }
                V value;
                try {
                    value = rowReader.read(rs);
                } catch (SQLException | RuntimeException e) {
                    out.fail(nk, new SQLException("the row reader failed for key " + nk + ": " + e, 
                            e instanceof SQLException x ? x.getSQLState() : "HY000", e));
                    continue;
                }
                List<V> rows = out.putIfAbsent(nk, Collections.singletonList(value)); // one row: the usual case
                if (rows != null) {
                    if (!(rows instanceof ArrayList<V>)) {
                        rows = new ArrayList<>(rows);
                        out.put(nk, rows);
                    }
                    rows.add(value);
                    several = true;
                }
            }
            return several;
        }
    }
}
