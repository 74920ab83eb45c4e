package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The double-borrow guard ({@code multipleAcquisition}) on real PostgreSQL. The scenario is Spring's
 * {@code REQUIRES_NEW} inside a transaction: N callers on a pool of N each hold a connection and ask for a second.
 * With the guard off every caller times out (the pool deadlock the guard exists for); with WARN they still time
 * out, and each is reported with both stacks; with FAIL each second borrow is refused at once and nobody waits.
 */
class PostgresMultipleAcquisitionTest {

    private static FerryDataSource pool(int size, int minimumIdle, MultipleAcquisition guard,
                                        RecordingListener listener) {
        return new FerryDataSource(FerryConfig.builder().jdbcUrl(Postgres.url()).poolName("nested-" + guard)
                .maximumPoolSize(size).minimumIdle(minimumIdle).connectionTimeout(Duration.ofMillis(400))
                .multipleAcquisition(guard).listener(listener).build());
    }

    /** What each of {@code callers} callers got for its second borrow while holding its first. */
    private static List<Throwable> nestedBorrows(FerryDataSource ds, int callers, ThreadFactory threads)
            throws Exception {
        CyclicBarrier allHoldOne = new CyclicBarrier(callers);
        CyclicBarrier allTried = new CyclicBarrier(callers); // nobody gives its first back while another waits
        ExecutorService executor = Executors.newFixedThreadPool(callers, threads);
        try {
            List<CompletableFuture<Throwable>> outcomes = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                outcomes.add(CompletableFuture.supplyAsync(() -> {
                    try (Connection outer = ds.getConnection()) {
                        allHoldOne.await(30, TimeUnit.SECONDS);
                        Throwable outcome = null;
                        try (Connection inner = ds.getConnection()) { // REQUIRES_NEW
                            assertThat(selectOne(inner)).isEqualTo(1);
                        } catch (SQLException refused) {
                            assertThat(selectOne(outer)).as("the held connection still works").isEqualTo(1);
                            outcome = refused;
                        }
                        allTried.await(30, TimeUnit.SECONDS);
                        return outcome;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, executor));
            }
            List<Throwable> got = new ArrayList<>();
            for (CompletableFuture<Throwable> f : outcomes) {
                got.add(f.get(60, TimeUnit.SECONDS));
            }
            return got;
        } finally {
            executor.shutdownNow();
        }
    }

    private static int selectOne(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @ParameterizedTest(name = "pool of {0}, minimumIdle {1}")
    @CsvSource({"1, 0", "4, 0", "4, 1", "4, 4"})
    void withTheGuardOffEveryNestedBorrowTimesOut(int size, int minimumIdle) throws Exception {
        RecordingListener listener = new RecordingListener();
        try (FerryDataSource ds = pool(size, minimumIdle, MultipleAcquisition.ALLOW, listener)) {
            List<Throwable> got = nestedBorrows(ds, size, Executors.defaultThreadFactory());
            assertThat(got).hasSize(size).allSatisfy(e -> assertThat(e)
                    .isInstanceOf(SQLTransientConnectionException.class).hasMessageContaining("timed out"));
            assertThat(listener.of(PoolEvent.MultipleAcquisition.class)).isEmpty();
            assertThat(listener.of(PoolEvent.Exhausted.class)).as("they all waited at the cap").isNotEmpty();
        }
    }

    @ParameterizedTest(name = "pool of {0}, minimumIdle {1}")
    @CsvSource({"1, 0", "4, 1"})
    void warnReportsEachNestedBorrowWithBothStacksAndLetsItGoOn(int size, int minimumIdle) throws Exception {
        RecordingListener listener = new RecordingListener();
        try (FerryDataSource ds = pool(size, minimumIdle, MultipleAcquisition.WARN, listener)) {
            List<Throwable> got = nestedBorrows(ds, size, Executors.defaultThreadFactory());
            assertThat(got).allSatisfy(e -> assertThat(e).isInstanceOf(SQLTransientConnectionException.class));
            List<PoolEvent.MultipleAcquisition> warned = listener.of(PoolEvent.MultipleAcquisition.class);
            assertThat(warned).hasSize(size).allSatisfy(w -> {
                assertThat(w.pool()).isEqualTo("nested-WARN");
                assertThat(w.askedAt()).hasMessageContaining("a second connection asked for here by thread "
                        + w.thread());
                assertThat(w.askedAt().getStackTrace()).as("the second borrow's stack").isNotEmpty();
                assertThat(w.askedAt().getCause()).as("where the held one was borrowed")
                        .hasMessageContaining("borrowed here by thread " + w.thread());
                assertThat(w.askedAt().getCause().getStackTrace()).isNotEmpty();
            });
            assertThat(warned.stream().map(PoolEvent.MultipleAcquisition::thread).distinct()).hasSize(size);
        }
    }

    @ParameterizedTest(name = "pool of {0}, minimumIdle {1}")
    @CsvSource({"1, 0", "1, 1", "4, 0", "4, 1"})
    void failRefusesEachNestedBorrowAtOnceAndNobodyWaits(int size, int minimumIdle) throws Exception {
        RecordingListener listener = new RecordingListener();
        try (FerryDataSource ds = pool(size, minimumIdle, MultipleAcquisition.FAIL, listener)) {
            List<Throwable> got = nestedBorrows(ds, size, Executors.defaultThreadFactory());
            assertThat(got).hasSize(size).allSatisfy(e -> {
                assertThat(e).isExactlyInstanceOf(SQLException.class)
                        .hasMessageContaining("multipleAcquisition=FAIL").hasMessageContaining("second connection")
                        .hasMessageContaining("nothing waited");
                assertThat(((SQLException) e).getSQLState()).isEqualTo("HY000");
                assertThat(e.getCause()).hasMessageContaining("a second connection asked for here");
                assertThat(e.getCause().getCause()).hasMessageContaining("borrowed here by thread");
            });
            assertThat(listener.of(PoolEvent.Exhausted.class)).as("nobody waited at the cap").isEmpty();
            try (Connection again = ds.getConnection()) { // every first connection came back: none is held now
                assertThat(selectOne(again)).isEqualTo(1);
            }
        }
    }

    @Test
    void aConnectionClosedOnAnotherThreadNoLongerCountsForItsBorrower() throws Exception {
        RecordingListener listener = new RecordingListener();
        try (FerryDataSource ds = pool(2, 0, MultipleAcquisition.FAIL, listener)) {
            Connection first = ds.getConnection();
            assertThatThrownBy(ds::getConnection).hasMessageContaining("multipleAcquisition=FAIL");
            CompletableFuture.runAsync(() -> {
                try {
                    first.close(); // handed to another thread, which returns it
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }).get(30, TimeUnit.SECONDS);
            try (Connection second = ds.getConnection()) { // this thread holds nothing now
                assertThat(selectOne(second)).isEqualTo(1);
                try (Connection other = CompletableFuture.supplyAsync(() -> {
                    try {
                        return ds.getConnection(); // another thread holding nothing: not refused
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                }).get(30, TimeUnit.SECONDS)) {
                    assertThat(selectOne(other)).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void virtualThreadsAreGuardedEachOnTheirOwn() throws Exception {
        ThreadFactory virtual = VirtualThreads.factory();
        org.junit.jupiter.api.Assumptions.assumeTrue(virtual != null, "virtual threads need JDK 21+");
        RecordingListener listener = new RecordingListener();
        try (FerryDataSource ds = pool(4, 0, MultipleAcquisition.FAIL, listener)) {
            List<Throwable> got = nestedBorrows(ds, 4, virtual);
            assertThat(got).allSatisfy(e -> assertThat(e).hasMessageContaining("multipleAcquisition=FAIL"));
        }
    }

    @Test
    void theSettingIsHikariStyleAndShownInToString() {
        Properties p = new Properties();
        p.setProperty("jdbcUrl", Postgres.DEFAULT_URL);
        p.setProperty("multipleAcquisition", "warn");
        FerryConfig config = FerryConfig.builder().properties(p).build();
        assertThat(config.multipleAcquisition()).isEqualTo(MultipleAcquisition.WARN);
        assertThat(config.toString()).contains("multipleAcquisition=WARN");
        assertThat(FerryConfig.builder().jdbcUrl(Postgres.DEFAULT_URL).build().toString())
                .doesNotContain("multipleAcquisition");
        p.setProperty("multipleAcquisition", "sometimes");
        assertThatThrownBy(() -> FerryConfig.builder().properties(p).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("multipleAcquisition: got 'sometimes'; allowed: ALLOW, WARN or FAIL");
    }
}
