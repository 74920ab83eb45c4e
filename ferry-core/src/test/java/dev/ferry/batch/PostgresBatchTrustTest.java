package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.ferry.FerryDataSource;
import dev.ferry.Postgres;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 8's scenarios on a real PostgreSQL server: a blocking fallback, a throwing binder, a lock timeout, an
 * interrupted writer, a cancelled request, and every common key type. Locks held by a second session make a
 * batch stay in flight for as long as a test needs.
 */
class PostgresBatchTrustTest {

    private FerryDataSource pool;
    private Connection admin;

    @BeforeEach
    void setUp() throws SQLException {
        pool = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("trust")).maximumPoolSize(4)
                .build());
        admin = Postgres.admin();
        try (Statement s = admin.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_trust");
            s.execute("CREATE TABLE ferry_trust (id BIGINT PRIMARY KEY, v INT NOT NULL)");
            s.execute("INSERT INTO ferry_trust SELECT g, 0 FROM generate_series(1, 200) g");
        }
    }

    @AfterEach
    void tearDown() throws SQLException {
        if (!admin.getAutoCommit()) {
            admin.rollback();
        }
        admin.close();
        pool.close();
    }

    /** Holds a lock in the admin session until {@link #unlock()}. */
    private void lock(String mode) throws SQLException {
        admin.setAutoCommit(false);
        try (Statement s = admin.createStatement()) {
            s.execute("LOCK TABLE ferry_trust IN " + mode + " MODE");
        }
    }

    private void unlock() throws SQLException {
        admin.commit();
        admin.setAutoCommit(true);
    }

    private int waitingOnLocks() throws SQLException {
        try (Connection c = Postgres.admin(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                     + "AND query LIKE '%ferry_trust%'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private long count(String where) throws SQLException {
        try (Connection c = Postgres.admin(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM ferry_trust WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static SQLException failure(CompletableFuture<?> f) throws Exception {
        try {
            f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(SQLException.class);
            return (SQLException) e.getCause();
        }
        throw new AssertionError("expected a failure");
    }

    private BatchedLookup<Long, Integer> lookup(Duration timeout) {
        return pool.<Long, Integer>batchedLookup(Long.class)
                .sql("SELECT id, v FROM ferry_trust WHERE id IN (:keys)")
                .key(rs -> rs.getLong("id")).row(rs -> rs.getInt("v"))
                .maxInFlight(1).timeout(timeout).build();
    }

    @Test
    void aBlockingFallbackOnATimedOutLookupCompletesAndCloseReturns() throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            BatchedLookup<Long, Integer> lookup = lookup(Duration.ofMillis(250));
            lock("ACCESS EXCLUSIVE");
            CompletableFuture<Optional<Integer>> first = lookup.load(1L); // in flight, waiting on the lock
            await().until(() -> waitingOnLocks() == 1);
            CompletableFuture<Optional<Integer>> withFallback = lookup.load(2L).exceptionally(e -> {
                try {
                    return lookup.get(3L); // an ordinary fallback: ask again, blocking
                } catch (SQLException x) {
                    return Optional.of(-1);
                }
            });
            Thread.sleep(400); // request 2 times out in the queue; its fallback waits for the one slot
            unlock();
            assertThat(withFallback.get(10, TimeUnit.SECONDS)).isPresent();
            first.handle((v, e) -> null).get(10, TimeUnit.SECONDS);
            lookup.close();
        });
    }

    @Test
    void oneThrowingBinderAmong200RowsFailsOneRequestAndCommitsTheOther199() throws Exception {
        try (BatchedWriter<Long> writer = pool.<Long>batchedWriter()
                .sql("UPDATE ferry_trust SET v = v + 1 WHERE id = ?")
                .bind((ps, id) -> {
                    if (id == 77) {
                        throw new IllegalStateException("cannot bind row 77");
                    }
                    ps.setLong(1, id);
                })
                .maxInFlight(1).maxBatchSize(500).build()) {
            lock("SHARE");
            CompletableFuture<Integer> first = writer.submit(200L); // holds the one slot while the rest queue
            await().until(() -> waitingOnLocks() == 1);
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            for (long id = 1; id <= 199; id++) {
                futures.add(writer.submit(id));
            }
            unlock();
            assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            for (long id = 1; id <= 199; id++) {
                CompletableFuture<Integer> f = futures.get((int) id - 1);
                if (id == 77) {
                    assertThat((Throwable) failure(f)).hasMessageContaining("cannot bind row 77");
                } else {
                    assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(1);
                }
            }
        }
        assertThat(count("v = 1")).isEqualTo(199);
        assertThat(count("id = 77 AND v = 0")).isEqualTo(1);
    }

    @Test
    void aLockTimeoutFailsABatchOf100With55P03AfterOneExecutionNotBisected() throws Exception {
        try (FerryDataSource timingOut = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("lockt"))
                .maximumPoolSize(2).connectionInitSql("SET lock_timeout = '300ms'").build());
             BatchedWriter<Long> writer = timingOut.<Long>batchedWriter()
                .sql("UPDATE ferry_trust SET v = v + 1 WHERE id = ?")
                .bind((ps, id) -> ps.setLong(1, id))
                .maxInFlight(1).maxBatchSize(500).build()) {
            lock("SHARE");
            CompletableFuture<Integer> first = writer.submit(200L);
            await().until(() -> waitingOnLocks() == 1);
            List<CompletableFuture<Integer>> batch = new ArrayList<>();
            for (long id = 1; id <= 100; id++) {
                batch.add(writer.submit(id));
            }
            assertThat(failure(first).getSQLState()).isEqualTo("55P03");
            for (CompletableFuture<Integer> f : batch) {
                assertThat(failure(f).getSQLState()).isEqualTo("55P03");
            }
            BatchStats stats = writer.stats();
            assertThat(stats.executions()).as("the first alone, then the 100 once").isEqualTo(2);
            assertThat(stats.splits()).isZero();
            unlock();
        }
        assertThat(count("v <> 0")).isZero();
    }

    @Test
    void anInterruptedWriterWhoseRowCommitsIsToldTheOutcomeIsUnknown() throws Exception {
        try (BatchedWriter<Long> writer = pool.<Long>batchedWriter()
                .sql("UPDATE ferry_trust SET v = 5 WHERE id = ?")
                .bind((ps, id) -> ps.setLong(1, id))
                .timeout(Duration.ofSeconds(10)).build()) {
            lock("SHARE");
            AtomicReference<Throwable> seen = new AtomicReference<>();
            Thread caller = new Thread(() -> {
                try {
                    writer.write(9L);
                } catch (SQLException e) {
                    seen.set(e);
                }
            });
            caller.start();
            await().until(() -> waitingOnLocks() == 1); // sent: the UPDATE waits for the lock
            caller.interrupt();
            caller.join(10_000);
            assertThat(seen.get()).isInstanceOf(OutcomeUnknownException.class);
            assertThat(((SQLException) seen.get()).getSQLState()).isEqualTo("08007");
            unlock();
            await().atMost(Duration.ofSeconds(10)).until(() -> count("id = 9 AND v = 5") == 1);
        }
    }

    @Test
    void aCancelledRequestThatWasStillQueuedIsNeverExecuted() throws Exception {
        CountingDataSource counting = new CountingDataSource(pool);
        try (BatchedWriter<Long> writer = BatchedWriter.<Long>builder(counting.dataSource)
                .sql("UPDATE ferry_trust SET v = 7 WHERE id = ?")
                .bind((ps, id) -> ps.setLong(1, id))
                .maxInFlight(1).build()) {
            lock("SHARE");
            CompletableFuture<Integer> first = writer.submit(1L);
            await().until(() -> waitingOnLocks() == 1);
            CompletableFuture<Integer> cancelled = writer.submit(2L);
            assertThat(cancelled.cancel(true)).isTrue();
            unlock();
            assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(writer.stats().withdrawn()).isEqualTo(1);
        }
        assertThat(counting.executions.get()).as("one executeBatch: the cancelled write was never sent").isEqualTo(1);
        assertThat(count("id = 2 AND v = 7")).isZero();
        assertThat(count("id = 1 AND v = 7")).isEqualTo(1);
    }

    @Test
    void everyCommonKeyTypeWorksAsAPostgresArray() throws Exception {
        try (Statement s = admin.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_key_types");
            s.execute("CREATE TABLE ferry_key_types (i8 BIGINT, i4 INT, i2 SMALLINT, t TEXT, u UUID, n NUMERIC, "
                    + "d DATE, ts TIMESTAMP, tz TIMESTAMPTZ, b BOOLEAN)");
            s.execute("INSERT INTO ferry_key_types VALUES (1, 2, 3, 'x', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
                    + "12.50, '2026-11-24', '2026-11-24 10:00:00', '2026-11-24 10:00:00+00', true)");
        }
        check(Long.class, "i8", 1L, rs -> rs.getLong(1));
        check(Integer.class, "i4", 2, rs -> rs.getInt(1));
        check(Short.class, "i2", (short) 3, rs -> rs.getShort(1));
        check(String.class, "t", "x", rs -> rs.getString(1));
        check(UUID.class, "u", UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), rs -> rs.getObject(1, UUID.class));
        check(BigDecimal.class, "n", new BigDecimal("12.5000"), rs -> rs.getBigDecimal(1)); // matched ignoring scale
        check(LocalDate.class, "d", LocalDate.of(2026, 11, 24), rs -> rs.getObject(1, LocalDate.class));
        check(LocalDateTime.class, "ts", LocalDateTime.of(2026, 11, 24, 10, 0),
                rs -> rs.getObject(1, LocalDateTime.class));
        check(OffsetDateTime.class, "tz", OffsetDateTime.of(2026, 11, 24, 10, 0, 0, 0, ZoneOffset.UTC),
                rs -> rs.getObject(1, OffsetDateTime.class));
        check(Instant.class, "tz", Instant.parse("2026-11-24T10:00:00Z"),
                rs -> rs.getObject(1, OffsetDateTime.class).toInstant());
        check(Boolean.class, "b", true, rs -> rs.getBoolean(1));
    }

    private <K> void check(Class<K> type, String column, K key, RowReader<K> reader) throws Exception {
        try (BatchedLookup<K, String> lookup = pool.<K, String>batchedLookup(type)
                .sql("SELECT " + column + ", t FROM ferry_key_types WHERE " + column + " IN (:keys)")
                .key(reader).row(rs -> rs.getString("t")).build()) {
            assertThat(lookup.get(key)).as(type.getSimpleName()).contains("x");
        }
    }

    @Test
    void templatesAndKeyTypesThatCannotWorkFailAtBuild() {
        Function<String, BatchedLookup.Builder<Long, Integer>> withSql = sql -> pool.<Long, Integer>batchedLookup(Long.class)
                .sql(sql).key(rs -> rs.getLong(1)).row(rs -> rs.getInt(2));
        assertThatThrownBy(() -> withSql.apply("SELECT id, v FROM ferry_trust WHERE id NOT IN (:keys)").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not 'NOT IN (:keys)'");
        assertThatThrownBy(() -> withSql.apply("SELECT id, v FROM ferry_trust WHERE id IN (:keys) AND v = ?").build())
                .hasMessageContaining("1 '?' outside the key list and 0 value(s) from params");
        assertThatThrownBy(() -> pool.<byte[], Integer>batchedLookup(byte[].class)
                .sql("SELECT id, v FROM t WHERE id IN (:keys)").key(rs -> rs.getBytes(1)).row(rs -> 1).build())
                .hasMessageContaining("arrays compare by identity");
        assertThatThrownBy(() -> pool.<Thread.State, Integer>batchedLookup(Thread.State.class)
                .sql("SELECT id, v FROM t WHERE id IN (:keys)").key(rs -> Thread.State.NEW).row(rs -> 1).build())
                .hasMessageContaining("keyType: got java.lang.Thread$State, which has no PostgreSQL array type");
    }

    @Test
    void aNullKeyFailsItsOwnFutureAndCallersOfOneKeyCannotChangeEachOthersRows() throws Exception {
        try (BatchedLookup<Long, Integer> lookup = lookup(Duration.ofSeconds(5))) {
            assertThat(failure(lookup.loadAll(null)).getSQLState()).isEqualTo("22004");
            List<Integer> rows = lookup.getAll(5L);
            assertThat(rows).containsExactly(0);
            assertThatThrownBy(() -> rows.add(1)).isInstanceOf(UnsupportedOperationException.class);
        }
    }
}
