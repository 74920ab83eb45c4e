package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import dev.ferry.Postgres;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A COMMIT that reaches the server and commits, but whose reply is lost: the client sees the error its driver
 * would raise (H2 90067 "connection broken", MariaDB's SQLNonTransientConnectionException 08S01, pgjdbc's
 * 08006). No server can be made to lose exactly that reply on demand, so the connection is wrapped to commit and
 * then throw. Every caller must be told the outcome is unknown, and nothing may be executed twice.
 */
class LostCommitTest {

    static Stream<Arguments> databases() {
        return Stream.of(
                Arguments.of("H2", (Supplier<FerryConfig.Builder>) () -> FerryConfig.builder()
                        .jdbcUrl("jdbc:h2:mem:lostcommit;DB_CLOSE_DELAY=-1").poolName("h2-lost"),
                        (Supplier<SQLException>) () -> new SQLException("Connection is broken: \"session closed\"",
                                "90067", 90067)),
                Arguments.of("MariaDB", (Supplier<FerryConfig.Builder>) LostCommitTest::mariaDb,
                        (Supplier<SQLException>) () -> new SQLNonTransientConnectionException(
                                "(conn=42) Connection reset", "08S01")),
                Arguments.of("PostgreSQL", (Supplier<FerryConfig.Builder>) () -> Postgres.config(
                        Postgres.uniqueApplicationName("lost")),
                        (Supplier<SQLException>) () -> new SQLException("An I/O error occurred while sending to the "
                                + "backend.", "08006")));
    }

    private static FerryConfig.Builder mariaDb() {
        try (Connection c = DriverManager.getConnection(MariaDbBatchedLookupTest.URL)) {
            c.isValid(1);
        } catch (SQLException e) {
            assumeTrue(false, "MariaDB not reachable: " + e.getMessage());
        }
        return FerryConfig.builder().jdbcUrl(MariaDbBatchedLookupTest.URL).poolName("mariadb-lost");
    }

    /** Connections whose commit() commits and then throws {@code lost}; counts the commits. */
    static DataSource losingCommitReplies(DataSource target, Supplier<? extends Throwable> lost,
                                          AtomicInteger commits) {
        return (DataSource) Proxy.newProxyInstance(LostCommitTest.class.getClassLoader(),
                new Class<?>[] {DataSource.class}, (p, m, args) -> {
                    Object result = invoke(target, m, args);
                    if (!(result instanceof Connection c)) {
                        return result;
                    }
                    return Proxy.newProxyInstance(LostCommitTest.class.getClassLoader(),
                            new Class<?>[] {Connection.class}, (cp, cm, cargs) -> {
                                Object r = invoke(c, cm, cargs);
                                if (cm.getName().equals("commit")) {
                                    commits.incrementAndGet();
                                    throw lost.get();
                                }
                                return r;
                            });
                });
    }

    static Object invoke(Object target, java.lang.reflect.Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static long rows(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM ferry_lost")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Throwable failure(CompletableFuture<?> f) throws Exception {
        try {
            f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected a failure");
    }

    @org.junit.jupiter.api.Test
    void aDriverThatThrowsSomethingUncheckedFromCommitGivesAnUnknownOutcomeNotASplit() throws Exception {
        try (FerryDataSource pool = new FerryDataSource(FerryConfig.builder()
                .jdbcUrl("jdbc:h2:mem:lostcommit2;DB_CLOSE_DELAY=-1").poolName("h2-unchecked").build())) {
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS ferry_lost");
                s.execute("CREATE TABLE ferry_lost (id BIGINT PRIMARY KEY)");
            }
            AtomicInteger commits = new AtomicInteger();
            DataSource odd = losingCommitReplies(pool, () -> new IllegalStateException("driver bug after commit"),
                    commits);
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            try (BatchedWriter<Long> writer = BatchedWriter.<Long>builder(odd)
                    .sql("INSERT INTO ferry_lost (id) VALUES (?)").bind((ps, id) -> ps.setLong(1, id))
                    .maxInFlight(1).build()) {
                for (long id = 1; id <= 20; id++) {
                    futures.add(writer.submit(id));
                }
                for (CompletableFuture<Integer> f : futures) {
                    assertThat(failure(f)).isInstanceOf(OutcomeUnknownException.class);
                }
                assertThat(writer.stats().splits()).isZero();
                assertThat(writer.stats().executions()).isEqualTo(commits.get());
            }
            assertThat(rows(pool)).isEqualTo(20);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void aLostCommitIsReportedAsUnknownAndNeverExecutedAgain(String name, Supplier<FerryConfig.Builder> database,
                                                             Supplier<SQLException> lost) throws Exception {
        try (FerryDataSource pool = new FerryDataSource(database.get().maximumPoolSize(3).build())) {
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS ferry_lost");
                s.execute("CREATE TABLE ferry_lost (id BIGINT PRIMARY KEY)");
            }
            AtomicInteger commits = new AtomicInteger();
            DataSource lossy = losingCommitReplies(pool, lost, commits);

            // Batched writes: every caller is told "unknown"; each row was inserted exactly once.
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            try (BatchedWriter<Long> writer = BatchedWriter.<Long>builder(lossy)
                    .sql("INSERT INTO ferry_lost (id) VALUES (?)").bind((ps, id) -> ps.setLong(1, id))
                    .maxInFlight(1).build()) {
                for (long id = 1; id <= 50; id++) {
                    futures.add(writer.submit(id));
                }
                for (CompletableFuture<Integer> f : futures) {
                    assertThat(failure(f)).as(name).isInstanceOf(OutcomeUnknownException.class);
                }
                BatchStats stats = writer.stats();
                assertThat(stats.executions()).as("no retry, no split").isEqualTo(stats.batches())
                        .isEqualTo(commits.get());
                assertThat(stats.outcomeUnknown()).isEqualTo(50);
            }
            assertThat(rows(pool)).isEqualTo(50);

            // One transaction alone: unknown, and not retried.
            commits.set(0);
            Throwable alone = null;
            try {
                TransactionBatch.of(TransactionBatch.statement("INSERT INTO ferry_lost (id) VALUES (?)", 100L))
                        .execute(lossy);
            } catch (SQLException e) {
                alone = e;
            }
            assertThat(alone).isInstanceOf(OutcomeUnknownException.class);
            assertThat(commits.get()).isEqualTo(1);
            assertThat(rows(pool)).isEqualTo(51);

            // Group commit: every caller of the group is told "unknown"; each transaction ran once.
            commits.set(0);
            List<CompletableFuture<List<Integer>>> grouped = new ArrayList<>();
            try (GroupCommit group = GroupCommit.builder(lossy).maxInFlight(1).build()) {
                for (long id = 200; id < 220; id++) {
                    grouped.add(group.submit(TransactionBatch.of(
                            TransactionBatch.statement("INSERT INTO ferry_lost (id) VALUES (?)", id))));
                }
                for (CompletableFuture<List<Integer>> f : grouped) {
                    assertThat(failure(f)).isInstanceOf(OutcomeUnknownException.class);
                }
                assertThat(group.stats().executions()).isEqualTo(commits.get());
            }
            assertThat(rows(pool)).isEqualTo(71);
        }
    }
}
