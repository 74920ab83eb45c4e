package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.ferry.batch.BatchedLookup;
import dev.ferry.batch.BatchedWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What users get wrong, one row each: bad settings, use after close, null keys, wrong types, a batch beyond the
 * driver's parameter limit, one malformed request among good ones, interrupted callers, a pool closed under waiting
 * callers, a database that takes the connection and never answers. Each row asserts the kind of error and that its
 * message names the problem (and, for batches, that the other requests are unharmed). Stub driver where the
 * database does not matter; real PostgreSQL where it does.
 */
class BadInputCatalogueTest {

    private static final String STUB = "dev.ferry.testkit.StubDriver";

    /** One case: what the user does, the error they must get, and words its message must hold. */
    record Case(String name, Action action, Class<? extends Throwable> expected, List<String> fragments) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    interface Action {
        void run() throws Throwable;
    }

    static Case c(String name, Class<? extends Throwable> expected, Action action, String... fragments) {
        return new Case(name, action, expected, List.of(fragments));
    }

    private static FerryConfig.Builder stub() {
        return FerryConfig.builder().jdbcUrl("jdbc:stub:catalogue-" + System.nanoTime()).driverClassName(STUB);
    }

    private static FerryConfig.Builder pg() {
        return FerryConfig.builder().jdbcUrl(Postgres.url()).maximumPoolSize(4).minimumIdle(0)
                .connectionTimeout(Duration.ofSeconds(5));
    }

    @BeforeAll
    static void tables() throws SQLException {
        try (Connection c = Postgres.admin(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS ferry_catalogue (id int PRIMARY KEY, name text NOT NULL)");
            s.execute("INSERT INTO ferry_catalogue SELECT g, 'n' || g FROM generate_series(1, 50000) g "
                    + "ON CONFLICT DO NOTHING");
            s.execute("CREATE TABLE IF NOT EXISTS ferry_catalogue_writes (id int PRIMARY KEY, qty int NOT NULL)");
            s.execute("TRUNCATE ferry_catalogue_writes");
        }
    }

    @AfterAll
    static void drop() throws SQLException {
        try (Connection c = Postgres.admin(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_catalogue_writes");
        }
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        { // settings refused at build time
            Class<IllegalArgumentException> iae = IllegalArgumentException.class;
            cases.add(c("maximumPoolSize 0", iae, () -> stub().maximumPoolSize(0).build(), "maximumPoolSize", "got 0"));
            cases.add(c("the same lane twice", iae, () -> stub().maximumPoolSize(10).lane("reports", 1, 2)
                    .lane("reports", 1, 3).build(), "reports", "twice"));
            cases.add(c("minimumIdle above maximumPoolSize, both set", iae,
                    () -> stub().maximumPoolSize(5).minimumIdle(6).build(), "minimumIdle", "6", "maximumPoolSize"));
            cases.add(c("connectionTimeout negative", iae,
                    () -> stub().connectionTimeout(Duration.ofMillis(-1)).build(), "connectionTimeout"));
            cases.add(c("validationTimeout zero", iae, () -> stub().validationTimeout(Duration.ZERO).build(),
                    "validationTimeout"));
            cases.add(c("idleTimeout negative", iae, () -> stub().idleTimeout(Duration.ofSeconds(-1)).build(),
                    "idleTimeout"));
            cases.add(c("maxLifetime negative", iae, () -> stub().maxLifetime(Duration.ofSeconds(-1)).build(),
                    "maxLifetime"));
            cases.add(c("keepaliveTime negative", iae, () -> stub().keepaliveTime(Duration.ofSeconds(-1)).build(),
                    "keepaliveTime"));
            cases.add(c("leakDetectionThreshold negative", iae,
                    () -> stub().leakDetectionThreshold(Duration.ofSeconds(-1)).build(), "leakDetectionThreshold"));
            cases.add(c("queryTimeout negative", iae, () -> stub().queryTimeout(Duration.ofSeconds(-1)).build(),
                    "queryTimeout"));
            cases.add(c("shutdownTimeout negative", iae,
                    () -> stub().shutdownTimeout(Duration.ofSeconds(-1)).build(), "shutdownTimeout"));
            cases.add(c("neither jdbcUrl nor a data source", iae, () -> FerryConfig.builder().build(), "jdbcUrl"));
            cases.add(c("a driver class that does not exist", iae,
                    () -> FerryConfig.builder().jdbcUrl("jdbc:nothing:x").driverClassName("com.example.NoDriver")
                            .build(), "driverClassName", "com.example.NoDriver"));
            cases.add(c("a URL no driver accepts", iae,
                    () -> FerryConfig.builder().jdbcUrl("jdbc:nothing-accepts-this:x").build(), "jdbcUrl"));
            cases.add(c("transactionIsolation unknown", iae,
                    () -> stub().transactionIsolation("TRANSACTION_SOMETIMES").build(), "transactionIsolation",
                    "TRANSACTION_SOMETIMES"));
            cases.add(c("a replica that is not PostgreSQL", iae,
                    () -> FerryConfig.builder().jdbcUrl(Postgres.url()).replica("jdbc:mysql://h/db").build(),
                    "replicas", "PostgreSQL"));
            cases.add(c("failover forced with no replicas", iae,
                    () -> FerryConfig.builder().jdbcUrl(Postgres.url()).failover(true).build(), "failover"));
            cases.add(c("banTime zero", iae, () -> stub().banTime(Duration.ZERO).build(), "banTime"));
            cases.add(c("maxReplicationLag negative", iae,
                    () -> stub().maxReplicationLag(Duration.ofSeconds(-1)).build(), "maxReplicationLag"));
            cases.add(c("reserve negative", iae, () -> stub().reserve(-1).build(), "reserve", "-1"));
            cases.add(c("metricRegistry not a Micrometer registry", iae,
                    () -> stub().metricRegistry("not a registry").build(), "metricRegistry"));
            cases.add(c("a lane whose minimum is above its cap", iae,
                    () -> stub().maximumPoolSize(10).lane("reports", 5, 2).build(), "lane reports", "minimum 5",
                    "cap 2", "at least the minimum"));
        }
        // Run time (the stub driver where the database does not matter).
        cases.add(c("getConnection after close", SQLException.class, () -> {
            FerryDataSource ds = new FerryDataSource(stub().build());
            ds.close();
            ds.getConnection();
        }, "closed"));
        cases.add(c("a statement on a connection already closed", SQLException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(stub().build())) {
                Connection c = ds.getConnection();
                c.close();
                c.createStatement();
            }
        }, "closed"));
        cases.add(c("a result set read after its statement closed", SQLException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(pg().build()); Connection c = ds.getConnection()) {
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT 1");
                s.close();
                rs.next();
            }
        }, "closed"));
        cases.add(c("getConnection(user, password)", java.sql.SQLFeatureNotSupportedException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(stub().build())) {
                ds.getConnection("u", "p");
            }
        }, "getConnection(username, password)", "data source per user"));
        cases.add(c("unwrap to something it is not", SQLException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(stub().build())) {
                ds.unwrap(java.util.concurrent.Executor.class);
            }
        }, "Executor"));
        cases.add(c("a setting changed after start", IllegalStateException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(stub().build())) {
                ds.setJdbcUrl("jdbc:stub:other");
            }
        }, "jdbcUrl", "cannot change"));
        cases.add(c("maximumPoolSize 0 at run time", IllegalArgumentException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(stub().build())) {
                ds.setMaximumPoolSize(0);
            }
        }, "maximumPoolSize", "got 0"));
        cases.add(c("a lane that does not exist", IllegalArgumentException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(stub().maximumPoolSize(4).lane("reports", 1, 2).build())) {
                ds.lane("reprots");
            }
        }, "reprots", "reports"));
        cases.add(c("a null priority", NullPointerException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(stub().build())) {
                ds.forPriority(null);
            }
        }, "priority"));
        cases.add(c("an interrupted caller waiting for a connection", SQLException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(stub().maximumPoolSize(1).minimumIdle(0)
                    .connectionTimeout(Duration.ofSeconds(30)).build()); Connection held = ds.getConnection()) {
                AtomicReference<Throwable> got = new AtomicReference<>();
                AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
                Thread waiter = new Thread(() -> {
                    try (Connection c = ds.getConnection()) {
                        got.set(new AssertionError("got a connection the pool did not have"));
                    } catch (Throwable e) {
                        got.set(e);
                        stillInterrupted.set(Thread.currentThread().isInterrupted());
                    }
                });
                waiter.start();
                Thread.sleep(200);
                waiter.interrupt();
                waiter.join(5000);
                assertThat(waiter.isAlive()).as("the interrupted caller returned").isFalse();
                assertThat(stillInterrupted.get()).as("the interrupt is kept for the caller").isTrue();
                throw got.get();
            }
        }, "interrupted"));
        cases.add(c("the pool closed while callers wait", SQLException.class, () -> {
            FerryDataSource ds = new FerryDataSource(stub().maximumPoolSize(1).minimumIdle(0)
                    .connectionTimeout(Duration.ofSeconds(30)).shutdownTimeout(Duration.ofMillis(100)).build());
            Connection held = ds.getConnection();
            AtomicReference<Throwable> got = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(1);
            Thread waiter = new Thread(() -> {
                try (Connection c = ds.getConnection()) {
                    got.set(new AssertionError("got a connection from a closed pool"));
                } catch (Throwable e) {
                    got.set(e);
                }
                done.countDown();
            });
            waiter.start();
            Thread.sleep(200);
            ds.close();
            assertThat(done.await(5, TimeUnit.SECONDS)).as("the waiter is released at close, not at its timeout")
                    .isTrue();
            held.close();
            assertThat(got.get()).as("the waiter's outcome").isNotNull();
            throw got.get();
        }, "closed"));
        // Batching.
        cases.add(c("a null key", SQLException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(pg().build()); BatchedLookup<Integer, String> lookup =
                    ds.<Integer, String>batchedLookup(Integer.class).sql("SELECT id, name FROM ferry_catalogue "
                            + "WHERE id IN (:keys)").key(rs -> rs.getInt(1)).row(rs -> rs.getString(2)).build()) {
                throw unwrap(lookup.load(null));
            }
        }, "key is null"));
        cases.add(c("a null write", NullPointerException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(pg().build()); BatchedWriter<int[]> writer =
                    ds.<int[]>batchedWriter().sql("INSERT INTO ferry_catalogue_writes VALUES (?, ?)")
                            .bind((ps, r) -> {
                                ps.setInt(1, r[0]);
                                ps.setInt(2, r[1]);
                            }).build()) {
                writer.submit(null);
            }
        }, "request"));
        cases.add(c("a lookup after close", SQLException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(pg().build())) {
                BatchedLookup<Integer, String> lookup = ds.<Integer, String>batchedLookup(Integer.class)
                        .sql("SELECT id, name FROM ferry_catalogue WHERE id IN (:keys)").key(rs -> rs.getInt(1))
                        .row(rs -> rs.getString(2)).build();
                lookup.close();
                throw unwrap(lookup.load(1));
            }
        }, "closed", "not executed"));
        cases.add(c("a batch past the parameter limit: 40,000 keys at once on H2, split at 32,766", null, () -> {
            String h2 = "jdbc:h2:mem:ferry-catalogue-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
            try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(h2).maximumPoolSize(2)
                    .build())) {
                try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))");
                    s.execute("INSERT INTO items SELECT x, 'n' || x FROM SYSTEM_RANGE(1, 40000)");
                }
                try (BatchedLookup<Integer, String> lookup = ds.<Integer, String>batchedLookup(Integer.class)
                        .maxBatchSize(40_000).maxQueued(50_000).sql("SELECT id, name FROM items WHERE id IN (:keys)")
                        .key(rs -> rs.getInt(1)).row(rs -> rs.getString(2)).build()) {
                    List<CompletableFuture<java.util.Optional<String>>> all = new ArrayList<>();
                    for (int i = 1; i <= 40_000; i++) {
                        all.add(lookup.load(i));
                    }
                    for (int i = 0; i < all.size(); i++) {
                        assertThat(all.get(i).get(60, TimeUnit.SECONDS)).contains("n" + (i + 1));
                    }
                    assertThat(lookup.stats().executions()).as("split into statements under the limit")
                            .isGreaterThanOrEqualTo(2);
                }
            }
        }));
        cases.add(c("40,000 keys at once on PostgreSQL (one array parameter: no limit to pass)", null, () -> {
            try (FerryDataSource ds = new FerryDataSource(pg().build()); BatchedLookup<Integer, String> lookup =
                    ds.<Integer, String>batchedLookup(Integer.class).maxBatchSize(40_000).maxQueued(50_000).sql("SELECT id, name FROM "
                            + "ferry_catalogue WHERE id IN (:keys)").key(rs -> rs.getInt(1))
                            .row(rs -> rs.getString(2)).build()) {
                List<CompletableFuture<java.util.Optional<String>>> all = new ArrayList<>();
                for (int i = 1; i <= 40_000; i++) {
                    all.add(lookup.load(i));
                }
                for (int i = 0; i < all.size(); i++) {
                    assertThat(all.get(i).get(60, TimeUnit.SECONDS)).contains("n" + (i + 1));
                }
            }
        }));
        cases.add(c("one write of the wrong type among good ones", SQLException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(pg().build()); BatchedWriter<Object[]> writer =
                    ds.<Object[]>batchedWriter().sql("INSERT INTO ferry_catalogue_writes VALUES (?, ?::int)")
                            .bind((ps, r) -> {
                                ps.setInt(1, (Integer) r[0]);
                                ps.setString(2, (String) r[1]);
                            }).build()) {
                List<CompletableFuture<Integer>> good = new ArrayList<>();
                for (int i = 1; i <= 20; i++) {
                    good.add(writer.submit(new Object[] {i, Integer.toString(i)}));
                }
                CompletableFuture<Integer> bad = writer.submit(new Object[] {21, "twenty-one"});
                for (CompletableFuture<Integer> f : good) {
                    assertThat(f.get(30, TimeUnit.SECONDS)).as("the good writes are unharmed").isEqualTo(1);
                }
                throw unwrap(bad);
            }
        }, "twenty-one"));
        cases.add(c("one malformed request among good ones (a constraint it breaks)", SQLException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(pg().build()); BatchedWriter<Object[]> writer =
                    ds.<Object[]>batchedWriter().sql("INSERT INTO ferry_catalogue_writes VALUES (?, ?)")
                            .bind((ps, r) -> {
                                ps.setInt(1, (Integer) r[0]);
                                ps.setObject(2, r[1], java.sql.Types.INTEGER);
                            }).build()) {
                List<CompletableFuture<Integer>> good = new ArrayList<>();
                for (int i = 100; i < 120; i++) {
                    good.add(writer.submit(new Object[] {i, i}));
                }
                CompletableFuture<Integer> bad = writer.submit(new Object[] {120, null}); // NOT NULL
                for (CompletableFuture<Integer> f : good) {
                    assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(1);
                }
                throw unwrap(bad);
            }
        }, "qty"));
        cases.add(c("a key of the wrong type for the query", SQLException.class, () -> {
            try (FerryDataSource ds = new FerryDataSource(pg().build()); BatchedLookup<String, String> lookup =
                    ds.<String, String>batchedLookup(String.class).sql("SELECT id, name FROM ferry_catalogue "
                            + "WHERE id IN (:keys)").key(rs -> rs.getString(1)).row(rs -> rs.getString(2)).build()) {
                throw unwrap(lookup.load("not-a-number"));
            }
        }, "integer = text"));
        // A database that accepts the TCP connection and never answers.
        cases.add(c("a database that takes the connection and never answers", java.sql.SQLTransientConnectionException.class,
                () -> {
                    try (FaultProxy proxy = FaultProxy.forTestDatabase()) {
                        proxy.mode(FaultProxy.Mode.BLACK_HOLE);
                        long start = System.nanoTime();
                        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(proxy.url())
                                .minimumIdle(0).connectionTimeout(Duration.ofSeconds(1))
                                .initializationFailTimeout(Duration.ofMillis(-1)).build())) {
                            try {
                                ds.getConnection();
                            } finally {
                                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                                        .as("fails near connectionTimeout").isLessThan(5000);
                            }
                        }
                    }
                }, "not available", "timed out after 1000"));
        return cases.stream();
    }

    private static Throwable unwrap(CompletableFuture<?> f) throws InterruptedException {
        try {
            f.get(30, TimeUnit.SECONDS);
            return new AssertionError("completed normally");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            return new AssertionError("never completed", e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void eachMistakeGetsAClearError(Case c) {
        Throwable thrown = catchThrowable(() -> c.action().run());
        if (c.expected() == null) {
            assertThat(thrown).as("handled without an error").isNull();
            return;
        }
        assertThat(thrown).as(c.name()).isInstanceOf(c.expected());
        String message = String.valueOf(thrown.getMessage());
        for (String fragment : c.fragments()) {
            assertThat(message).as("%s: the message names the problem", c.name()).containsIgnoringCase(fragment);
        }
    }

    @org.junit.jupiter.api.Test
    void theCatalogueHoldsAtLeastFortyCases() {
        assertThat(cases().count()).isGreaterThanOrEqualTo(40);
    }
}
