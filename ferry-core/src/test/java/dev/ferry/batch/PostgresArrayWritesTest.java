package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.FerryDataSource;
import dev.ferry.Postgres;
import java.io.StringReader;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Writes sent as one {@code INSERT ... SELECT FROM unnest(...)} per batch on a plain PostgreSQL URL: the same
 * rows, errors, keys and acknowledgements as JDBC batches, checked against a writer with arrays off.
 */
class PostgresArrayWritesTest {

    private FerryDataSource pool;

    private FerryDataSource pool(boolean autoCommit) throws SQLException {
        pool = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("arrays"))
                .maximumPoolSize(4).minimumIdle(0).autoCommit(autoCommit).build());
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_arrays_a, ferry_arrays_b, ferry_arrays_kv");
            for (String t : List.of("ferry_arrays_a", "ferry_arrays_b")) {
                s.execute("CREATE TABLE " + t + " (id BIGINT PRIMARY KEY, small SMALLINT, n INT, amount NUMERIC(20,6),"
                        + " ratio DOUBLE PRECISION, name TEXT, code VARCHAR(10), flag BOOLEAN, at TIMESTAMPTZ,"
                        + " local_at TIMESTAMP, day DATE, uid UUID, data BYTEA, doc JSONB, half NUMERIC, "
                        + " dnum NUMERIC, f8 DOUBLE PRECISION, dtext TEXT, lday DATE, day_tz TIMESTAMPTZ, doc2 JSONB)");
            }
            s.execute("CREATE TABLE ferry_arrays_kv (k BIGINT PRIMARY KEY, v TEXT NOT NULL, writes INT NOT NULL)");
            if (!autoCommit) {
                c.commit();
            }
        }
        return pool;
    }

    @AfterEach
    void close() {
        if (pool != null) {
            pool.close();
        }
    }

    record Row(long id, String name) {
    }

    private static org.postgresql.util.PGobject json() {
        org.postgresql.util.PGobject doc = new org.postgresql.util.PGobject();
        doc.setType("json");
        return doc;
    }


    private static final String[] NAMES = {"plain", "NULL", "with \"quotes\"", "back\\slash", "{braces}", "a,b",
            "", "  spaced  ", "ünïcödé ✓", "it's", null};

    private static BatchedWriter<Row> typedWriter(javax.sql.DataSource ds, String table, boolean arrays) {
        byte[] buffer = {0, 0, (byte) 0xff, '\\', '"'}; // this writer's own (one batch at a time binds it)
        org.postgresql.util.PGobject doc = json(); // likewise
        return BatchedWriter.<Row>builder(ds)
                .sql("INSERT INTO " + table + " (id, small, n, amount, ratio, name, code, flag, at, local_at, day, uid, "
                        + "data, doc, half, dnum, f8, dtext, lday, day_tz, doc2) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                        + "?, ?, ?, ?::jsonb, ? / 2, ?, ?, ?, ?, ?, ?)")
                .bind((ps, r) -> {
                    long id = r.id();
                    ps.setLong(1, id);
                    if (id % 7 == 0) {
                        ps.setNull(2, Types.SMALLINT);
                    } else {
                        ps.setShort(2, (short) (id % 300));
                    }
                    ps.setInt(3, (int) (id * 1000));
                    ps.setBigDecimal(4, id % 5 == 0 ? null : new BigDecimal("1E+3").add(BigDecimal.valueOf(id, 6)));
                    ps.setDouble(5, id % 11 == 0 ? Double.NaN : id / 3.0);
                    ps.setString(6, r.name());
                    ps.setObject(7, id % 2 == 0 ? "even" : null);
                    ps.setBoolean(8, id % 2 == 0);
                    // untyped in pgjdbc: the server's column type decides; around both DST changes, with
                    // nanoseconds pgjdbc rounds half up, and PostgreSQL's infinity
                    ps.setTimestamp(9, id == 5 ? new Timestamp(9223372036825200000L) : Timestamp.from(Instant.parse(
                            id % 2 == 0 ? "2026-03-29T00:30:00.123456Z" : "2026-10-25T00:30:00.1234565Z")
                            .plusSeconds(id * 60)));
                    // a timestamptz value into a timestamp column: converted in the session's time zone
                    ps.setObject(10, OffsetDateTime.of(2026, 10, 25, 2, 30, 0, 0, ZoneOffset.ofHours(3)).plusDays(id));
                    if (id % 3 == 0) {
                        ps.setDate(11, java.sql.Date.valueOf(LocalDate.of(2024, 2, 29).plusDays(id)));
                    } else {
                        ps.setNull(11, Types.DATE);
                    }
                    ps.setObject(12, new UUID(id, -id));
                    buffer[1] = (byte) id; // one buffer, reused for every row, as a driver allows
                    ps.setBytes(13, id % 4 == 0 ? null : buffer);
                    ps.setString(14, "{\"id\": " + id + ", \"s\": \"x,y\"}");
                    ps.setBigDecimal(15, BigDecimal.valueOf(2 * id + 1)); // ? / 2 divides as numeric: x.5
                    ps.setDouble(16, 0.1 * id); // float8 into numeric: the server's rounding
                    ps.setFloat(17, 0.1f * id); // float4 into float8: widened by the server
                    ps.setDouble(18, id * 1e18); // float8 into text: the server's text form
                    ps.setObject(19, LocalDate.of(2026, 1, 1).plusDays(id));
                    ps.setDate(20, id % 2 == 0 ? java.sql.Date.valueOf(LocalDate.of(2026, 10, 20).plusDays(id % 10))
                            : new java.sql.Date(Instant.parse("2026-03-28T22:30:00Z").toEpochMilli() + id * 3_600_000L));
                    doc.setValue("{\"n\": " + id + "}"); // one PGobject, reused for every row
                    ps.setObject(21, doc);
                })
                .postgresArrays(arrays).maxInFlight(1).maxBatchSize(500).build();
    }

    @ParameterizedTest(name = "autoCommit={0}")
    @ValueSource(booleans = {true, false})
    void everyColumnTypeArrivesAsAPlainBatchWouldWriteIt(boolean autoCommit) throws Exception {
        pool(autoCommit);
        CountingDataSource counting = new CountingDataSource(pool);
        try (BatchedWriter<Row> arrays = typedWriter(counting.dataSource, "ferry_arrays_a", true);
             BatchedWriter<Row> plain = typedWriter(pool, "ferry_arrays_b", false)) {
            List<CompletableFuture<Integer>> acks = new ArrayList<>();
            for (long id = 1; id <= 400; id++) {
                Row r = new Row(id, NAMES[(int) (id % NAMES.length)]);
                acks.add(arrays.submit(r));
                acks.add(plain.submit(r));
            }
            for (CompletableFuture<Integer> f : acks) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            }
            assertThat(arrays.stats().batches()).as("batched").isLessThan(50);
        }
        assertThat(inserts(counting)).as("sent as arrays").isNotEmpty()
                .allSatisfy(s -> assertThat(s).contains("unnest("));
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            for (String[] pair : new String[][] {{"a", "b"}, {"b", "a"}}) {
                List<String> differing = new ArrayList<>();
                try (ResultSet rs = s.executeQuery("SELECT d::text, (SELECT o::text FROM ferry_arrays_" + pair[1]
                        + " o WHERE o.id = d.id) FROM (SELECT * FROM ferry_arrays_" + pair[0]
                        + " EXCEPT SELECT * FROM ferry_arrays_" + pair[1] + ") d")) {
                    while (rs.next()) {
                        differing.add(rs.getString(1) + " where the other has " + rs.getString(2));
                    }
                }
                assertThat(differing).as("rows in %s that differ from %s", pair[0], pair[1]).isEmpty();
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*), count(name), count(*) FILTER (WHERE name = 'NULL') "
                    + "FROM ferry_arrays_a")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(400);
                assertThat(rs.getLong(2)).as("null names stay null").isLessThan(400);
                assertThat(rs.getLong(3)).as("the string 'NULL' stays a string").isPositive();
            }
            try (ResultSet rs = s.executeQuery("SELECT half::text, dtext, encode(data, 'hex') FROM ferry_arrays_a "
                    + "WHERE id = 3")) {
                rs.next();
                assertThat(rs.getString(1)).as("? / 2 with a BigDecimal divides as numeric").isEqualTo("3.5000000000000000");
                assertThat(rs.getString(2)).as("a double into text, as the server writes it").isEqualTo("3e+18");
                assertThat(rs.getString(3)).as("each row's own copy of the reused buffer").isEqualTo("0003ff5c22");
            }
            if (!autoCommit) {
                c.rollback();
            }
        }
    }

    @Test
    void aParameterNullInEveryRowIsTypedAsTheDriverTypesItsNull() throws Exception {
        pool(true);
        CountingDataSource counting = new CountingDataSource(pool);
        try (BatchedWriter<Long> writer = BatchedWriter.<Long>builder(counting.dataSource)
                .sql("INSERT INTO ferry_arrays_kv (k, v, writes) VALUES (?, coalesce(?, 'default'), coalesce(?, 7))")
                .bind((ps, k) -> {
                    ps.setLong(1, k);
                    ps.setString(2, null); // varchar, as pgjdbc types it
                    ps.setNull(3, Types.INTEGER); // int4
                }).maxInFlight(1).maxBatchSize(1000).build()) {
            assertThat(submitAll(writer, 1, 30)).containsOnly(1);
            assertThat(writer.arraysOffBecause()).isNull();
        }
        assertThat(inserts(counting)).isNotEmpty().allSatisfy(s -> assertThat(s).contains("unnest("));
        assertThat(scalar("SELECT count(*) FROM ferry_arrays_kv WHERE v = 'default' AND writes = 7")).isEqualTo(30);
    }

    @Test
    void anUntypedNullInsideAnExpressionSendsThatBatchPlainAndKeepsArraysOn() throws Exception {
        pool(true);
        try (BatchedWriter<Long> writer = BatchedWriter.<Long>builder(pool)
                .sql("INSERT INTO ferry_arrays_kv (k, v, writes) VALUES (?, coalesce(?, 'default'), 1)")
                .bind((ps, k) -> {
                    ps.setLong(1, k);
                    ps.setObject(2, k > 20 ? "given" : null); // untyped null: the server infers its type
                }).maxInFlight(1).maxBatchSize(1000).build()) {
            assertThat(submitAll(writer, 1, 20)).containsOnly(1);
            assertThat(writer.arraysOffBecause()).as("this batch's data, not the writer's way").isNull();
            assertThat(submitAll(writer, 21, 40)).containsOnly(1);
        }
        assertThat(scalar("SELECT count(*) FROM ferry_arrays_kv WHERE v = 'default'")).isEqualTo(20);
        assertThat(scalar("SELECT count(*) FROM ferry_arrays_kv WHERE v = 'given'")).isEqualTo(20);
    }

    @ParameterizedTest(name = "pool of {0}, minimumIdle {1}")
    @org.junit.jupiter.params.provider.CsvSource({"1, 0", "1, 1", "2, 1"})
    void smallPoolsShortTimeoutsAndAutocommitOffStillWriteEveryRowAsArraysOnce(int size, int minimumIdle)
            throws Exception {
        pool(true); // the tables
        pool.close();
        pool = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("arrays-small"))
                .maximumPoolSize(size).minimumIdle(minimumIdle).autoCommit(false)
                .connectionTimeout(java.time.Duration.ofMillis(250)).build());
        CountingDataSource counting = new CountingDataSource(pool);
        try (BatchedWriter<Long> writer = BatchedWriter.<Long>builder(counting.dataSource)
                .sql("INSERT INTO ferry_arrays_kv (k, v, writes) VALUES (?, ?, 1) ON CONFLICT (k) DO UPDATE "
                        + "SET writes = ferry_arrays_kv.writes + 1")
                .bind((ps, k) -> {
                    ps.setLong(1, k % 300); // every key three or four times, often in one batch
                    ps.setString(2, "small");
                }).timeout(java.time.Duration.ofSeconds(5)).build()) {
            List<CompletableFuture<Integer>> acks = new ArrayList<>();
            java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(8);
            try {
                for (long k = 0; k < 1000; k++) {
                    long key = k;
                    acks.add(CompletableFuture.supplyAsync(() -> writer.submit(key), callers).thenCompose(f -> f));
                }
                for (CompletableFuture<Integer> f : acks) {
                    assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(1);
                }
            } finally {
                callers.shutdownNow();
            }
            assertThat(writer.arraysOffBecause()).isNull();
        }
        assertThat(inserts(counting)).isNotEmpty().allSatisfy(s -> assertThat(s).contains("unnest("));
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*), sum(writes) FROM ferry_arrays_kv WHERE v = 'small'")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(300);
            assertThat(rs.getLong(2)).as("each of the 1,000 upserts applied once").isEqualTo(1000);
            c.rollback();
        }
    }

    @Test
    void threeBadRowsAmongAThousandFailAloneAndTheRestCommitAsArrays() throws Exception {
        pool(true);
        CountingDataSource counting = new CountingDataSource(pool);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO ferry_arrays_kv VALUES (250, 'old', 0), (500, 'old', 0), (750, 'old', 0)");
        }
        try (BatchedWriter<Long> writer = kvWriter(counting.dataSource,
                "INSERT INTO ferry_arrays_kv (k, v, writes) VALUES (?, ?, 1)")) {
            List<CompletableFuture<Integer>> acks = new ArrayList<>();
            for (long k = 1; k <= 1000; k++) {
                acks.add(writer.submit(k));
            }
            for (int i = 0; i < acks.size(); i++) {
                long k = i + 1;
                if (k % 250 == 0 && k < 1000) {
                    assertThat(BatchedWriterContract.failure(acks.get(i))).isInstanceOf(SQLException.class)
                            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("23505"));
                } else {
                    assertThat(acks.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(1);
                }
            }
            assertThat(writer.stats().splits()).isPositive();
            assertThat(writer.stats().batches()).isLessThan(100);
            assertThat(counting.executions.get()).as("statements: a few splits per bad row, no storm").isLessThan(150);
            assertThat(writer.arraysOffBecause()).isNull();
        }
        assertThat(inserts(counting)).as("only as arrays, down to the bad rows themselves")
                .allSatisfy(s -> assertThat(s).contains("unnest("));
        assertThat(scalar("SELECT count(*) FROM ferry_arrays_kv WHERE v = 'v1'")).isEqualTo(997);
    }

    @Test
    void upsertsOfOneKeyInOneBatchApplyInOrderAsIfOneByOne() throws Exception {
        pool(true);
        CountingDataSource counting = new CountingDataSource(pool);
        try (BatchedWriter<long[]> upserts = BatchedWriter.<long[]>builder(counting.dataSource)
                .sql("INSERT INTO ferry_arrays_kv (k, v, writes) VALUES (?, ?, 1) ON CONFLICT (k) DO UPDATE "
                        + "SET v = EXCLUDED.v, writes = ferry_arrays_kv.writes + 1")
                .bind((ps, kv) -> {
                    ps.setLong(1, kv[0]);
                    ps.setString(2, "v" + kv[1]);
                })
                .maxInFlight(1).maxBatchSize(1000).build()) {
            List<CompletableFuture<Integer>> acks = new ArrayList<>();
            for (int version = 1; version <= 5; version++) { // queued together: keys 1..100, five times each
                for (long k = 1; k <= 100; k++) {
                    acks.add(upserts.submit(new long[] {k, version}));
                }
            }
            for (CompletableFuture<Integer> f : acks) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            }
        }
        assertThat(inserts(counting)).as("in rounds of arrays, never refused by PostgreSQL and sent plain")
                .isNotEmpty().allSatisfy(s -> assertThat(s).contains("unnest("));
        assertThat(scalar("SELECT count(*) FROM ferry_arrays_kv WHERE v = 'v5' AND writes = 5"))
                .as("every key's last write wins, and every write counted").isEqualTo(100);
    }

    @Test
    void doNothingCountsAreExactWhenTheTotalSaysSoAndNoInfoOtherwise() throws Exception {
        pool(true);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO ferry_arrays_kv SELECT g, 'old', 0 FROM generate_series(1, 10) g");
        }
        try (BatchedWriter<Long> writer = kvWriter(pool,
                "INSERT INTO ferry_arrays_kv (k, v, writes) VALUES (?, ?, 1) ON CONFLICT DO NOTHING")) {
            assertThat(submitAll(writer, 1, 10)).as("all skipped").containsOnly(0);
            assertThat(submitAll(writer, 11, 20)).as("all inserted").containsOnly(1);
            List<Integer> mixed = submitAll(writer, 15, 30); // 15 may go alone, as the first of an idle writer
            assertThat(mixed).as("some skipped: which, one statement cannot say").contains(Statement.SUCCESS_NO_INFO)
                    .allSatisfy(n -> assertThat(n).isIn(0, Statement.SUCCESS_NO_INFO));
        }
        assertThat(scalar("SELECT count(*) FROM ferry_arrays_kv")).isEqualTo(30);
    }

    @Test
    void generatedKeysComeBackInCallerOrder() throws Exception {
        pool(true);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_arrays_keyed");
            s.execute("CREATE TABLE ferry_arrays_keyed (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                    + "payload TEXT NOT NULL)");
        }
        CountingDataSource counting = new CountingDataSource(pool);
        try (BatchedWriter<String> writer = BatchedWriter.<String>builder(counting.dataSource)
                .sql("INSERT INTO ferry_arrays_keyed (payload) VALUES (?)").bind((ps, p) -> ps.setString(1, p))
                .returningKey("id").maxInFlight(1).maxBatchSize(1000).build()) {
            List<CompletableFuture<Long>> keys = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                keys.add(writer.submitForKey("row-" + i));
            }
            try (Connection c = pool.getConnection();
                 PreparedStatement ps = c.prepareStatement("SELECT payload FROM ferry_arrays_keyed WHERE id = ?")) {
                for (int i = 0; i < keys.size(); i++) {
                    ps.setLong(1, keys.get(i).get(30, TimeUnit.SECONDS));
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo("row-" + i);
                    }
                }
            }
            assertThat(writer.stats().batches()).isLessThan(1000);
        }
        assertThat(inserts(counting)).isNotEmpty().allSatisfy(s -> assertThat(s).contains("WITH ORDINALITY"));
    }

    @Test
    void aBadValueFailsOnlyItsRowWithTheDriversOwnError() throws Exception {
        pool(true);
        CountingDataSource counting = new CountingDataSource(pool);
        try (BatchedWriter<Long> writer = BatchedWriter.<Long>builder(counting.dataSource)
                .sql("INSERT INTO ferry_arrays_kv (k, v, writes) VALUES (?, 'x', ?)")
                .bind((ps, k) -> {
                    ps.setLong(1, k);
                    ps.setLong(2, k == 42 ? 1L << 40 : 1); // 42's does not fit the INT column
                }).maxInFlight(1).maxBatchSize(1000).build()) {
            List<CompletableFuture<Integer>> acks = new ArrayList<>();
            for (long k = 1; k <= 100; k++) {
                acks.add(writer.submit(k));
            }
            for (int k = 1; k <= 100; k++) {
                if (k == 42) {
                    assertThat(((SQLException) BatchedWriterContract.failure(acks.get(k - 1))).getSQLState()).isEqualTo("22003");
                } else {
                    assertThat(acks.get(k - 1).get(30, TimeUnit.SECONDS)).isEqualTo(1);
                }
            }
        }
        assertThat(scalar("SELECT count(*) FROM ferry_arrays_kv")).isEqualTo(99);
        assertThat(inserts(counting)).as("the one-row error confirmed by a plain batch").hasSize(2);
    }

    @ParameterizedTest(name = "postgresArrays={0}")
    @ValueSource(booleans = {true, false})
    void aWriteThatLeavesAParameterUnsetFailsAloneWhateverItsBatch(boolean arrays) throws Exception {
        pool(true);
        try (BatchedWriter<Long> writer = BatchedWriter.<Long>builder(pool)
                .sql("INSERT INTO ferry_arrays_kv (k, v, writes) VALUES (?, ?, 1)")
                .bind((ps, k) -> {
                    ps.setLong(1, k);
                    if (k != 2) {
                        ps.setString(2, "set-by-" + k);
                    }
                }).postgresArrays(arrays).maxInFlight(1).maxBatchSize(1000).build()) {
            List<CompletableFuture<Integer>> acks = new ArrayList<>();
            for (long k = 1; k <= 4; k++) { // 1 alone, then 2, 3, 4 together: 2 must not borrow 1's value
                acks.add(writer.submit(k));
            }
            assertThat(((SQLException) BatchedWriterContract.failure(acks.get(1))).getSQLState()).isEqualTo("22023");
            for (int i : new int[] {0, 2, 3}) {
                assertThat(acks.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(1);
            }
        }
        assertThat(scalar("SELECT count(*) FROM ferry_arrays_kv WHERE v LIKE 'set-by-%'")).isEqualTo(3);
    }

    @Test
    void whatArraysCannotCarryGoesAsPlainBatchesAndStillCommits() throws Exception {
        pool(true);
        CountingDataSource counting = new CountingDataSource(pool);
        try (BatchedWriter<Long> streams = BatchedWriter.<Long>builder(counting.dataSource)
                .sql("INSERT INTO ferry_arrays_kv (k, v, writes) VALUES (?, ?, 1)")
                .bind((ps, k) -> {
                    ps.setLong(1, k);
                    ps.setCharacterStream(2, new StringReader("streamed"));
                }).maxInFlight(1).build()) {
            assertThat(submitAll(streams, 1, 50)).containsOnly(1);
            assertThat(submitAll(streams, 51, 100)).containsOnly(1);
            assertThat(streams.arraysOffBecause()).contains("setCharacterStream");
        }
        assertThat(inserts(counting)).noneSatisfy(s -> assertThat(s).contains("unnest("));
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_arrays_tags");
            s.execute("CREATE TABLE ferry_arrays_tags (id BIGINT PRIMARY KEY, tags INT[])");
        }
        CountingDataSource tagsCounting = new CountingDataSource(pool);
        try (BatchedWriter<Long> arrayColumn = BatchedWriter.<Long>builder(tagsCounting.dataSource)
                .sql("INSERT INTO ferry_arrays_tags (id, tags) VALUES (?, ?)")
                .bind((ps, id) -> {
                    ps.setLong(1, id);
                    ps.setArray(2, ps.getConnection().createArrayOf("int4", new Integer[] {1, 2}));
                }).maxInFlight(1).build()) {
            assertThat(submitAll(arrayColumn, 1, 20)).containsOnly(1);
            assertThat(arrayColumn.arraysOffBecause()).contains("setArray");
        }
        assertThat(inserts(tagsCounting)).noneSatisfy(s -> assertThat(s).contains("unnest("));
        assertThat(scalar("SELECT count(*) FROM ferry_arrays_kv WHERE v = 'streamed'")).isEqualTo(100);
        assertThat(scalar("SELECT count(*) FROM ferry_arrays_tags WHERE tags = '{1,2}'")).isEqualTo(20);
    }

    @Test
    void aRefusalAfterStatementsRanIsRolledBackBeforeThePlainBatchSoNothingAppliesTwice() throws Exception {
        pool(true);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            // Keys compared case-insensitively: 'K' and 'k' are one key to PostgreSQL, two to Java, so the array
            // statement updates one row twice (21000) after earlier rows of the batch were written.
            s.execute("DROP TABLE IF EXISTS ferry_arrays_ci");
            s.execute("DROP COLLATION IF EXISTS ferry_ci");
            s.execute("CREATE COLLATION ferry_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)");
            s.execute("CREATE TABLE ferry_arrays_ci (k TEXT COLLATE ferry_ci PRIMARY KEY, writes INT NOT NULL)");
        }
        CountingDataSource counting = new CountingDataSource(pool);
        try (BatchedWriter<String> upserts = BatchedWriter.<String>builder(counting.dataSource)
                .sql("INSERT INTO ferry_arrays_ci (k, writes) VALUES (?, 1) ON CONFLICT (k) DO UPDATE "
                        + "SET writes = ferry_arrays_ci.writes + 1")
                .bind((ps, k) -> ps.setString(1, k)).maxInFlight(1).maxBatchSize(1000).build()) {
            CompletableFuture<Integer> first = upserts.submit("first"); // alone: the next ones queue together
            List<String> keys = List.of("a", "b", "K", "c", "k", "d");
            List<CompletableFuture<Integer>> acks = new ArrayList<>();
            for (String k : keys) {
                acks.add(upserts.submit(k));
            }
            assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            for (CompletableFuture<Integer> f : acks) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            }
            assertThat(upserts.arraysOffBecause()).as("two keys equal to SQL only: this batch's data, arrays stay on")
                    .isNull();
        }
        assertThat(inserts(counting)).as("the arrays were tried, then the plain batch ran")
                .anySatisfy(s -> assertThat(s).contains("unnest(")).anySatisfy(s -> assertThat(s).contains("VALUES"));
        assertThat(scalar("SELECT sum(writes) FROM ferry_arrays_ci")).as("7 upserts, each applied once").isEqualTo(7);
        assertThat(scalar("SELECT writes FROM ferry_arrays_ci WHERE k = 'k'")).isEqualTo(2);
    }

    @Test
    void keysThatCannotBeMatchedFailTheBatchWithoutWritingAnything() throws Exception {
        pool(true);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_arrays_keyed");
            s.execute("CREATE TABLE ferry_arrays_keyed (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                    + "payload TEXT NOT NULL)");
            s.execute("CREATE OR REPLACE FUNCTION ferry_arrays_skip() RETURNS trigger AS $$ BEGIN "
                    + "IF NEW.payload = 'skip' THEN RETURN NULL; END IF; RETURN NEW; END $$ LANGUAGE plpgsql");
            s.execute("CREATE TRIGGER ferry_arrays_skip BEFORE INSERT ON ferry_arrays_keyed FOR EACH ROW "
                    + "EXECUTE FUNCTION ferry_arrays_skip()");
        }
        try (BatchedWriter<String> writer = BatchedWriter.<String>builder(pool)
                .sql("INSERT INTO ferry_arrays_keyed (payload) VALUES (?)").bind((ps, p) -> ps.setString(1, p))
                .returningKey("id").maxInFlight(1).maxBatchSize(1000).build()) {
            CompletableFuture<Long> first = writer.submitForKey("first");
            List<CompletableFuture<Long>> keys = new ArrayList<>();
            for (String p : List.of("a", "skip", "b")) {
                keys.add(writer.submitForKey(p));
            }
            assertThat(first.get(30, TimeUnit.SECONDS)).isPositive();
            for (CompletableFuture<Long> k : keys) {
                assertThat(BatchedWriterContract.failure(k)).isInstanceOf(SQLException.class).hasMessageContaining("generated keys");
            }
        }
        assertThat(scalar("SELECT count(*) FROM ferry_arrays_keyed")).as("only the first row: the arrays were "
                + "rolled back and the plain batch failed whole").isEqualTo(1);
    }

    @Test
    void valueClassesTheDriverTypesDifferentlyInOneColumnGoAsPlainBatches() throws Exception {
        pool(true);
        try (BatchedWriter<Long> mixed = BatchedWriter.<Long>builder(pool)
                .sql("INSERT INTO ferry_arrays_kv (k, v, writes) VALUES (?, ?, 1)")
                .bind((ps, k) -> {
                    if (k % 2 == 0) {
                        ps.setLong(1, k);
                    } else {
                        ps.setInt(1, (int) (long) k);
                    }
                    ps.setString(2, "mixed");
                }).maxInFlight(1).maxBatchSize(1000).build()) {
            assertThat(submitAll(mixed, 1, 40)).containsOnly(1);
            assertThat(mixed.arraysOffBecause()).contains("binds as different types");
        }
        assertThat(scalar("SELECT count(*) FROM ferry_arrays_kv WHERE v = 'mixed'")).isEqualTo(40);
    }

    private static BatchedWriter<Long> kvWriter(javax.sql.DataSource ds, String sql) {
        return BatchedWriter.<Long>builder(ds).sql(sql)
                .bind((ps, k) -> {
                    ps.setLong(1, k);
                    ps.setString(2, "v1");
                }).maxInFlight(1).maxBatchSize(1000).build();
    }

    /** Queues keys from..to together and returns their counts. */
    private static List<Integer> submitAll(BatchedWriter<Long> writer, long from, long to) throws Exception {
        List<CompletableFuture<Integer>> acks = new ArrayList<>();
        for (long k = from; k <= to; k++) {
            acks.add(writer.submit(k));
        }
        List<Integer> counts = new ArrayList<>();
        for (CompletableFuture<Integer> f : acks) {
            counts.add(f.get(30, TimeUnit.SECONDS));
        }
        return counts;
    }

    /** The INSERT statements executed (not the catalog read). */
    private static List<String> inserts(CountingDataSource counting) {
        return counting.executedTexts.stream().filter(s -> s.startsWith("INSERT")).toList();
    }

    private long scalar(String sql) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
