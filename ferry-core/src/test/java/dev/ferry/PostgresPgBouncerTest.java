package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.batch.BatchedLookup;
import dev.ferry.batch.BatchedWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Ferry behind a real PgBouncer 1.18 in transaction pooling mode (4 server connections for many more client
 * connections): prepared statements with pgjdbc's {@code prepareThreshold=0} (PgBouncer before 1.21 cannot keep
 * server-side prepared statements across transactions), no session state leaking from one client's transaction to
 * another's, and batched lookups and writes working. docs/ha.md has the settings and the sizing rule.
 */
class PostgresPgBouncerTest {

    private static PgBouncer bouncer;
    private final ExecutorService threads = Executors.newFixedThreadPool(24);

    @BeforeAll
    static void start() throws Exception {
        bouncer = PgBouncer.start(4);
        try (Connection c = Postgres.admin(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_bouncer_items");
            s.execute("CREATE TABLE ferry_bouncer_items (id bigint PRIMARY KEY, name text NOT NULL)");
            s.execute("INSERT INTO ferry_bouncer_items SELECT g, 'item-' || g FROM generate_series(1, 1000) g");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (bouncer != null) {
            bouncer.close();
        }
        try (Connection c = Postgres.admin(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_bouncer_items, ferry_bouncer_writes");
        }
    }

    private FerryDataSource pool(int size, int minimumIdle) {
        return new FerryDataSource(FerryConfig.builder().jdbcUrl(bouncer.url("prepareThreshold=0"))
                .maximumPoolSize(size).minimumIdle(minimumIdle).connectionTimeout(Duration.ofSeconds(5)).build());
    }

    @ParameterizedTest(name = "minimumIdle={0}")
    @ValueSource(ints = {0, 1})
    void manyCallersOnFewServerConnectionsWithPreparedStatements(int minimumIdle) throws Exception {
        try (FerryDataSource ds = pool(20, minimumIdle)) {
            List<Future<Integer>> work = new ArrayList<>();
            for (int t = 0; t < 24; t++) {
                int offset = t;
                work.add(threads.submit(() -> {
                    int checked = 0;
                    for (int i = 0; i < 40; i++) {
                        long id = 1 + (offset * 40L + i) % 1000;
                        try (Connection c = ds.getConnection();
                             PreparedStatement ps = c.prepareStatement("SELECT name FROM ferry_bouncer_items WHERE id = ?")) {
                            for (int repeat = 0; repeat < 6; repeat++) { // past pgjdbc's default threshold of 5
                                ps.setLong(1, id);
                                try (ResultSet rs = ps.executeQuery()) {
                                    assertThat(rs.next()).isTrue();
                                    assertThat(rs.getString(1)).isEqualTo("item-" + id);
                                }
                            }
                            checked++;
                        }
                    }
                    return checked;
                }));
            }
            int total = 0;
            for (Future<Integer> f : work) {
                total += f.get(60, TimeUnit.SECONDS);
            }
            assertThat(total).isEqualTo(24 * 40);
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * Why the settings in docs/ha.md matter, shown on PgBouncer itself: without prepareThreshold=0, pgjdbc's named
     * prepared statements collide on shared server connections; a session SET outlives its client's borrow.
     */
    @Test
    void withoutTheseSettingsPgBouncerBreaksThings() throws Exception {
        // Its own PgBouncers: the prepared statements and the session SET left on their server connections must
        // not reach the other tests.
        try (PgBouncer own = PgBouncer.start(4)) {
            preparedStatementsCollideWithoutThresholdZero(own);
        }
        sessionSetsOutliveTheBorrow();
    }

    private void preparedStatementsCollideWithoutThresholdZero(PgBouncer own) throws Exception {
        for (String params : new String[] {"", "prepareThreshold=0"}) {
            AtomicInteger failures = new AtomicInteger();
            java.util.concurrent.atomic.AtomicReference<String> first = new java.util.concurrent.atomic.AtomicReference<>();
            try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(own.url(params))
                    .maximumPoolSize(16).minimumIdle(0).build())) {
                List<Future<?>> work = new ArrayList<>();
                for (int t = 0; t < 16; t++) {
                    work.add(threads.submit(() -> {
                        for (int i = 0; i < 50; i++) {
                            try (Connection c = ds.getConnection();
                                 PreparedStatement ps = c.prepareStatement("SELECT ?::int + 1")) {
                                for (int r = 0; r < 8; r++) {
                                    ps.setInt(1, r);
                                    ps.executeQuery().close();
                                }
                            } catch (java.sql.SQLException e) {
                                failures.incrementAndGet();
                                first.compareAndSet(null, e.getMessage());
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : work) {
                    f.get(60, TimeUnit.SECONDS);
                }
            }
            System.out.printf("PgBouncer, prepareThreshold %s: %d of 800 borrows failed (%s)%n",
                    params.isEmpty() ? "default (5)" : "0", failures.get(), first.get());
            if (params.isEmpty()) {
                assertThat(failures.get()).as("named prepared statements collide").isPositive();
                assertThat(first.get()).contains("prepared statement \"S_");
            } else {
                assertThat(failures.get()).isZero();
            }
        }
    }

    private void sessionSetsOutliveTheBorrow() throws Exception {
        try (PgBouncer own = PgBouncer.start(1);
             FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(own.url("prepareThreshold=0"))
                     .maximumPoolSize(4).minimumIdle(0).build())) {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("SET statement_timeout = '7s'"); // session state: stays on the server connection
            }
            int seen = 0;
            for (int i = 0; i < 50; i++) {
                try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SHOW statement_timeout")) {
                    rs.next();
                    seen += rs.getString(1).equals("7s") ? 1 : 0;
                }
            }
            System.out.printf("PgBouncer: a session SET seen by %d of 50 later borrows%n", seen);
            assertThat(seen).as("a session SET leaks to later borrowers").isPositive();
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void oneClientsTransactionSettingsNeverReachAnother() throws Exception {
        try (FerryDataSource ds = pool(16, 0)) {
            AtomicInteger leaks = new AtomicInteger();
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                work.add(threads.submit(() -> { // settings scoped to the transaction: SET TRANSACTION, SET LOCAL
                    for (int i = 0; i < 50; i++) {
                        try (Connection c = ds.getConnection()) {
                            c.setAutoCommit(false);
                            c.setReadOnly(true);
                            try (Statement s = c.createStatement()) {
                                s.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
                                s.execute("SET LOCAL statement_timeout = '5s'");
                                try (ResultSet rs = s.executeQuery("SHOW transaction_isolation")) {
                                    rs.next();
                                    assertThat(rs.getString(1)).isEqualTo("serializable");
                                }
                            }
                            if (i % 2 == 0) {
                                c.commit();
                            } // else: returned with the transaction open, which Ferry rolls back
                        }
                    }
                    return null;
                }));
            }
            for (int t = 0; t < 8; t++) {
                work.add(threads.submit(() -> {
                    for (int i = 0; i < 100; i++) {
                        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                             ResultSet rs = s.executeQuery("SELECT current_setting('transaction_isolation'), "
                                     + "current_setting('statement_timeout'), current_setting('transaction_read_only')")) {
                            rs.next();
                            // Another client's setting, or its transaction left open (which would show its
                            // serializable, read-only settings here).
                            if (!rs.getString(1).equals("read committed") || !rs.getString(2).equals("0")
                                    || !rs.getString(3).equals("off")) {
                                leaks.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertThat(leaks).hasValue(0);
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void batchedLookupsAndWritesWork() throws Exception {
        try (Connection c = Postgres.admin(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_bouncer_writes");
            s.execute("CREATE TABLE ferry_bouncer_writes (id bigint PRIMARY KEY)");
        }
        try (FerryDataSource ds = pool(8, 0);
             BatchedLookup<Long, String> items = ds.<Long, String>batchedLookup(Long.class).name("bouncer-items")
                     .sql("SELECT id, name FROM ferry_bouncer_items WHERE id IN (:keys)")
                     .key(rs -> rs.getLong("id")).row(rs -> rs.getString("name")).build();
             BatchedWriter<Long> writes = ds.<Long>batchedWriter().name("bouncer-writes")
                     .sql("INSERT INTO ferry_bouncer_writes (id) VALUES (?)")
                     .bind((ps, id) -> ps.setLong(1, id)).build()) {
            List<CompletableFuture<Optional<String>>> reads = new ArrayList<>();
            List<CompletableFuture<Integer>> written = new ArrayList<>();
            for (long id = 1; id <= 500; id++) {
                reads.add(items.load(id));
                written.add(writes.submit(id));
            }
            for (int i = 0; i < 500; i++) {
                assertThat(reads.get(i).get(30, TimeUnit.SECONDS)).contains("item-" + (i + 1));
                assertThat(written.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(1);
            }
            assertThat(items.stats().batches()).as("batched").isLessThan(500);
        }
        try (Connection c = Postgres.admin(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM ferry_bouncer_writes")) {
            rs.next();
            assertThat(rs.getInt(1)).as("every acknowledged write is there").isEqualTo(500);
        } finally {
            threads.shutdownNow();
        }
    }
}
