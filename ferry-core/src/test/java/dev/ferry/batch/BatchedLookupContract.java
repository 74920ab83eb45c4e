package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What batched lookups must do on every database; subclasses say which database. */
abstract class BatchedLookupContract {

    record User(long id, String name) {
    }

    static final int USERS = 5_000;

    FerryDataSource pool;
    CountingDataSource counting;

    /** A pool configuration for the database under test. */
    abstract FerryConfig.Builder database();

    @BeforeEach
    void setUp() throws SQLException {
        pool = new FerryDataSource(database().maximumPoolSize(4).build());
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_lookup_orders");
            s.execute("DROP TABLE IF EXISTS ferry_lookup_users");
            s.execute("CREATE TABLE ferry_lookup_users (id BIGINT PRIMARY KEY, name VARCHAR(40))");
            s.execute("CREATE TABLE ferry_lookup_orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL)");
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO ferry_lookup_users VALUES (?, ?)")) {
                for (long i = 1; i <= USERS; i++) {
                    ps.setLong(1, i);
                    ps.setString(2, "user-" + i);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO ferry_lookup_orders VALUES (?, ?)")) {
                for (long i = 1; i <= 30; i++) {
                    ps.setLong(1, i);
                    ps.setLong(2, i % 3 + 1); // users 1, 2, 3 have ten orders each
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
        }
        counting = new CountingDataSource(pool);
    }

    @AfterEach
    void tearDown() {
        pool.close();
    }

    BatchedLookup<Long, User> users() {
        return BatchedLookup.<Long, User>builder(counting.dataSource, Long.class)
                .sql("SELECT id, name FROM ferry_lookup_users WHERE id IN (:keys)")
                .key(rs -> rs.getLong("id"))
                .row(rs -> new User(rs.getLong("id"), rs.getString("name")))
                .build();
    }

    @Test
    void loadManyReturnsEachKeysRowInOrderAndSharesStatementsWithOtherCallers() throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(16);
        try (BatchedLookup<Long, User> users = users()) {
            List<Long> page = new ArrayList<>();
            for (long id = 400; id >= 1; id--) { // descending: the map keeps the caller's order
                page.add(id);
            }
            page.add(7L); // a duplicate: asked once
            page.add((long) USERS + 10); // no such user: left out
            List<CompletableFuture<java.util.Map<Long, User>>> pages = new ArrayList<>();
            List<CompletableFuture<Optional<User>>> singles = new ArrayList<>();
            for (int i = 0; i < 10; i++) { // ten callers with a page each, beside 200 single lookups
                pages.add(CompletableFuture.supplyAsync(() -> users.loadMany(page), executor).thenCompose(f -> f));
            }
            for (long id = 1000; id < 1200; id++) {
                long key = id;
                singles.add(CompletableFuture.supplyAsync(() -> users.load(key), executor).thenCompose(f -> f));
            }
            for (CompletableFuture<java.util.Map<Long, User>> f : pages) {
                java.util.Map<Long, User> got = f.get(30, TimeUnit.SECONDS);
                assertThat(got).hasSize(400).doesNotContainKey((long) USERS + 10);
                assertThat(got.keySet()).first().isEqualTo(400L);
                assertThat(new ArrayList<>(got.keySet())).as("the page's order").isSortedAccordingTo(
                        java.util.Comparator.reverseOrder());
                assertThat(got.get(7L)).isEqualTo(new User(7, "user-7"));
                got.forEach((id, u) -> assertThat(u).isEqualTo(new User(id, "user-" + id)));
            }
            for (int i = 0; i < singles.size(); i++) {
                assertThat(singles.get(i).get(30, TimeUnit.SECONDS)).contains(new User(1000 + i, "user-" + (1000 + i)));
            }
            long requests = users.stats().requests();
            assertThat(requests).as("each page's distinct keys, and the single lookups").isEqualTo(10 * 401 + 200);
            assertThat(counting.executions.get()).as("statements for 10 pages of 401 keys and 200 single lookups")
                    .isLessThan(requests / 20);
            assertThat(users.loadMany(List.of()).get(5, TimeUnit.SECONDS)).isEmpty();
            List<Long> withNull = new ArrayList<>(List.of(1L, 2L));
            withNull.add(null);
            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> users.loadMany(withNull)
                    .get(30, TimeUnit.SECONDS))).isInstanceOf(java.util.concurrent.ExecutionException.class)
                    .cause().isInstanceOf(SQLException.class).hasMessageContaining("key is null");
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void aPageOnAnIdleLookupIsOneStatementAndAPageTooLargeIsRefusedWhole() throws Exception {
        List<Long> page = new ArrayList<>();
        for (long id = 1; id <= 256; id++) {
            page.add(id);
        }
        try (BatchedLookup<Long, User> users = users()) {
            assertThat(users.loadMany(page).get(30, TimeUnit.SECONDS)).hasSize(256);
            assertThat(counting.executions.get()).as("256 keys on an idle lookup").isEqualTo(1);
            List<Long> authors = new ArrayList<>(); // 500 posts' authors, 50 distinct: asked once each
            for (int post = 0; post < 500; post++) {
                authors.add(1L + post % 50);
            }
            long requestsBefore = users.stats().requests();
            assertThat(users.loadMany(authors).get(30, TimeUnit.SECONDS)).hasSize(50)
                    .containsEntry(50L, new User(50, "user-50"));
            assertThat(users.stats().requests() - requestsBefore).as("one request per distinct key").isEqualTo(50);
            assertThat(counting.executions.get()).as("500 keys, 50 distinct: one statement").isEqualTo(2);
            counting.executions.set(0);
            List<Long> more = new ArrayList<>(page);
            for (long id = 257; id <= 300; id++) {
                more.add(id);
            }
            assertThat(users.loadMany(more, dev.ferry.Priority.CRITICAL).get(30, TimeUnit.SECONDS)).hasSize(300);
            assertThat(counting.executions.get()).as("a CRITICAL page of 300: one batch per 256 keys").isEqualTo(2);
        }
        try (BatchedLookup<Long, User> small = BatchedLookup.<Long, User>builder(counting.dataSource, Long.class)
                .sql("SELECT id, name FROM ferry_lookup_users WHERE id IN (:keys)").maxQueued(100)
                .key(rs -> rs.getLong("id")).row(rs -> new User(rs.getLong("id"), rs.getString("name"))).build()) {
            long before = counting.executions.get();
            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> small.loadMany(page)
                    .get(30, TimeUnit.SECONDS))).isInstanceOf(java.util.concurrent.ExecutionException.class)
                    .cause().isInstanceOf(SQLException.class).hasMessageContaining("page of 256 keys")
                    .hasMessageContaining("maxQueued=100");
            assertThat(counting.executions.get()).as("nothing executed").isEqualTo(before);
            assertThat(small.stats().rejected()).isEqualTo(256);
        }
    }

    @Test
    void fixedParametersAreBoundAroundTheKeyList() throws Exception {
        try (BatchedLookup<Long, User> users = BatchedLookup.<Long, User>builder(counting.dataSource, Long.class)
                .sql("SELECT id, name FROM ferry_lookup_users WHERE name LIKE ? AND id IN (:keys) AND id <> ?")
                .params("user-1%", 15L)
                .key(rs -> rs.getLong("id"))
                .row(rs -> new User(rs.getLong("id"), rs.getString("name")))
                .build()) {
            List<Long> ids = new ArrayList<>();
            for (long id = 1; id <= 20; id++) {
                ids.add(id);
            }
            java.util.Map<Long, User> got = users.loadMany(ids).get(30, TimeUnit.SECONDS);
            assertThat(got.keySet()).as("names starting user-1, but not id 15")
                    .containsExactly(1L, 10L, 11L, 12L, 13L, 14L, 16L, 17L, 18L, 19L);
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BatchedLookup.<Long, User>builder(counting.dataSource,
                        Long.class).sql("SELECT id, name FROM ferry_lookup_users WHERE name LIKE ? AND id IN (:keys)")
                .key(rs -> rs.getLong("id")).row(rs -> new User(rs.getLong("id"), rs.getString("name"))).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 '?' outside the key list and 0 value(s) from params");
    }

    record OrderKey(long userId, long id) {
    }

    @Test
    void compositeRecordKeysWithAFixedParameterAreMatchedBackAndBatched() throws Exception {
        try (BatchedLookup<OrderKey, Long> orders = BatchedLookup.<OrderKey, Long>builder(counting.dataSource,
                        OrderKey.class)
                .sql("SELECT user_id, id FROM ferry_lookup_orders WHERE id > ? AND (user_id, id) IN (:keys)")
                .params(5L)
                .key(rs -> new OrderKey(rs.getLong(1), rs.getLong(2)))
                .row(rs -> rs.getLong(2) * 100)
                .maxBatchSize(16).build()) {
            List<OrderKey> keys = new ArrayList<>();
            for (long id = 1; id <= 30; id++) {
                keys.add(new OrderKey(id % 3 + 1, id)); // its row (if id > 5)
                keys.add(new OrderKey(id % 3 + 2, id)); // the right id, another user: no row
            }
            List<CompletableFuture<Optional<Long>>> each = new ArrayList<>();
            for (OrderKey k : keys) {
                each.add(orders.load(k));
            }
            for (int i = 0; i < keys.size(); i++) {
                OrderKey k = keys.get(i);
                boolean exists = k.userId() == k.id() % 3 + 1 && k.id() > 5;
                assertThat(each.get(i).get(30, TimeUnit.SECONDS)).as("%s", k)
                        .isEqualTo(exists ? Optional.of(k.id() * 100) : Optional.empty());
            }
            long before = counting.executions.get(); // the single loads above batch as they happen to queue
            java.util.Map<OrderKey, Long> page = orders.loadMany(keys).get(30, TimeUnit.SECONDS);
            assertThat(page).hasSize(25).containsEntry(new OrderKey(1, 30), 3000L);
            assertThat(counting.executions.get() - before).as("a page of 60 keys on an idle lookup: batches of 16")
                    .isEqualTo(4);
        }
    }

    @Test
    void compositeListKeysOfMixedTypesAndAWrongSizedKeyFailingAlone() throws Exception {
        try (BatchedLookup<List<Object>, String> users = BatchedLookup.<List<Object>, String>builder(
                        counting.dataSource, listClass())
                .sql("SELECT id, name FROM ferry_lookup_users WHERE (id, name) IN (:keys)")
                .key(rs -> List.of(rs.getLong(1), rs.getString(2)))
                .row(rs -> rs.getString(2).toUpperCase(java.util.Locale.ROOT))
                .build()) {
            CompletableFuture<Optional<String>> hit = users.load(List.of(7L, "user-7"));
            CompletableFuture<Optional<String>> miss = users.load(List.of(7L, "user-8"));
            CompletableFuture<Optional<String>> wrong = users.load(List.of(7L));
            java.util.List<Object> nullName = new ArrayList<>();
            nullName.add(8L);
            nullName.add(null);
            assertThat(users.load(nullName).get(30, TimeUnit.SECONDS)).as("a null column matches nothing").isEmpty();
            assertThat(hit.get(30, TimeUnit.SECONDS)).contains("USER-7");
            assertThat(miss.get(30, TimeUnit.SECONDS)).isEmpty();
            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> wrong.get(30, TimeUnit.SECONDS)))
                    .hasRootCauseInstanceOf(SQLException.class).rootCause().hasMessageContaining("has 1 elements");
        }
        try (BatchedLookup<List<Object>, Long> orders = BatchedLookup.<List<Object>, Long>builder(counting.dataSource,
                        listClass())
                .sql("SELECT user_id, id FROM ferry_lookup_orders WHERE (user_id, id) IN (:keys)")
                .key(rs -> List.of(rs.getBigDecimal(1), rs.getLong(2)))
                .row(rs -> rs.getLong(2))
                .build()) {
            assertThat(orders.load(List.of(new java.math.BigDecimal("2.00"), 4L)).get(30, TimeUnit.SECONDS))
                    .as("a BigDecimal element compared ignoring scale, as SQL compares it").contains(4L);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Class<List<Object>> listClass() {
        return (Class) List.class;
    }

    @Test
    void compositeKeyMistakesAreCaughtAtBuild() {
        record Three(long a, long b, long c) {
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BatchedLookup.<Three, Long>builder(pool, Three.class)
                        .sql("SELECT 1 FROM ferry_lookup_orders WHERE (user_id, id) IN (:keys)")
                        .key(rs -> null).row(rs -> 1L).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 components for the 2-column");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BatchedLookup.<Long, Long>builder(pool, Long.class)
                        .sql("SELECT 1 FROM ferry_lookup_orders WHERE (user_id, id) IN (:keys)")
                        .key(rs -> 1L).row(rs -> 1L).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a record key");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BatchedLookup.<OrderKey, Long>builder(pool,
                                OrderKey.class)
                        .sql("SELECT 1 FROM ferry_lookup_orders WHERE id IN (:keys)")
                        .key(rs -> null).row(rs -> 1L).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a column tuple before the key list");
        record Priced(long id, java.math.BigDecimal price) {
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BatchedLookup.<Priced, Long>builder(pool, Priced.class)
                        .sql("SELECT 1 FROM ferry_lookup_orders WHERE (id, user_id) IN (:keys)")
                        .key(rs -> null).row(rs -> 1L).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyNormalizer");
    }

    @Test
    void concurrentLookupsAreCoalescedIntoFewStatements() throws Exception {
        int callers = 2_000;
        ExecutorService executor = Executors.newFixedThreadPool(64);
        try (BatchedLookup<Long, User> users = users()) {
            List<CompletableFuture<Optional<User>>> results = new ArrayList<>();
            for (int i = 1; i <= callers; i++) {
                long id = i;
                results.add(CompletableFuture.supplyAsync(() -> users.load(id), executor).thenCompose(f -> f));
            }
            for (int i = 1; i <= callers; i++) {
                assertThat(results.get(i - 1).get(30, TimeUnit.SECONDS)).contains(new User(i, "user-" + i));
            }
            BatchStats stats = users.stats();
            assertThat(stats.requests()).isEqualTo(callers);
            assertThat(counting.executions.get()).as("statements sent for %d lookups", callers)
                    .isEqualTo(stats.executions()).isLessThan(callers / 4);
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void keysAreMatchedBackIncludingMissingAndDuplicateKeys() throws Exception {
        try (BatchedLookup<Long, User> users = users()) {
            users.setEnabled(true);
            CompletableFuture<Optional<User>> a = users.load(7L);
            CompletableFuture<Optional<User>> missing = users.load(999_999L);
            CompletableFuture<Optional<User>> dup1 = users.load(8L);
            CompletableFuture<Optional<User>> dup2 = users.load(8L);
            assertThat(a.get(10, TimeUnit.SECONDS)).contains(new User(7, "user-7"));
            assertThat(missing.get(10, TimeUnit.SECONDS)).isEmpty();
            assertThat(dup1.get(10, TimeUnit.SECONDS)).contains(new User(8, "user-8"));
            assertThat(dup2.get(10, TimeUnit.SECONDS)).contains(new User(8, "user-8"));
            assertThat(users.get(9L)).contains(new User(9, "user-9"));
        }
    }

    @Test
    void aMissingKeyCanResolveToAChosenValue() throws Exception {
        User nobody = new User(-1, "nobody");
        try (BatchedLookup<Long, User> users = BatchedLookup.<Long, User>builder(counting.dataSource, Long.class)
                .sql("SELECT id, name FROM ferry_lookup_users WHERE id IN (:keys)")
                .key(rs -> rs.getLong("id"))
                .row(rs -> new User(rs.getLong("id"), rs.getString("name")))
                .missingValue(nobody).build()) {
            assertThat(users.get(999_999L)).contains(nobody);
            assertThat(users.get(3L)).contains(new User(3, "user-3"));
        }
    }

    @Test
    void oneToManyReturnsEveryRow() throws Exception {
        try (BatchedLookup<Long, Long> orders = BatchedLookup.<Long, Long>builder(counting.dataSource, Long.class)
                .sql("SELECT user_id, id FROM ferry_lookup_orders WHERE user_id IN (:keys) ORDER BY id")
                .key(rs -> rs.getLong("user_id"))
                .row(rs -> rs.getLong("id"))
                .build()) {
            assertThat(orders.getAll(1L)).containsExactly(3L, 6L, 9L, 12L, 15L, 18L, 21L, 24L, 27L, 30L);
            assertThat(orders.getAll(2L)).hasSize(10);
            assertThat(orders.getAll(4L)).isEmpty();
        }
    }

    @Test
    void killSwitchRunsEachLookupAlone() throws Exception {
        try (BatchedLookup<Long, User> users = users()) {
            users.setEnabled(false);
            List<CompletableFuture<Optional<User>>> results = new ArrayList<>();
            for (long i = 1; i <= 50; i++) {
                results.add(users.load(i));
            }
            for (CompletableFuture<Optional<User>> r : results) {
                assertThat(r.get(10, TimeUnit.SECONDS)).isPresent();
            }
            assertThat(users.stats().flushReasons().get(FlushReason.DISABLED)).isEqualTo(50);
            assertThat(counting.executions.get()).isEqualTo(50);
        }
    }
}
