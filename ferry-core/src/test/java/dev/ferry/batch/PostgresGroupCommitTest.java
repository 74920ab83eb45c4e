package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.FerryDataSource;
import dev.ferry.Postgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Group commit on PostgreSQL: 1,000 concurrent callers, each a two-statement transaction, every hundredth of
 * which fails on its second statement. Each caller is all or nothing on its own; the rest share COMMITs.
 */
class PostgresGroupCommitTest {

    private FerryDataSource pool;

    @BeforeEach
    void setUp() throws SQLException {
        pool = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("group")).maximumPoolSize(4).build());
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_gc_audit");
            s.execute("DROP TABLE IF EXISTS ferry_gc_orders");
            s.execute("CREATE TABLE ferry_gc_orders (id BIGINT PRIMARY KEY, amount INT NOT NULL)");
            s.execute("CREATE TABLE ferry_gc_audit (order_id BIGINT PRIMARY KEY, amount INT NOT NULL "
                    + "CHECK (amount >= 0))");
        }
    }

    @AfterEach
    void tearDown() {
        pool.close();
    }

    private long scalar(String sql) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Caller i's transaction: an order, then its audit row, which violates the CHECK for every hundredth. */
    private static TransactionBatch transaction(long i) {
        int amount = i % 100 == 0 ? -1 : (int) i;
        return TransactionBatch.of(
                TransactionBatch.statement("INSERT INTO ferry_gc_orders (id, amount) VALUES (?, ?)", i, amount),
                TransactionBatch.statement("INSERT INTO ferry_gc_audit (order_id, amount) VALUES (?, ?)", i, amount));
    }

    @ParameterizedTest(name = "blocking callers: {0}")
    @ValueSource(booleans = {false, true})
    void thousandCallersOnePercentFailingEachAllOrNothingOnItsOwn(boolean blocking) throws Exception {
        List<Future<List<Integer>>> results = new ArrayList<>();
        ExecutorService callers = Executors.newFixedThreadPool(blocking ? 200 : 1);
        CountDownLatch go = new CountDownLatch(1);
        try (GroupCommit group = pool.groupCommit().build()) {
            for (long i = 1; i <= 1000; i++) {
                long id = i;
                if (blocking) {
                    results.add(callers.submit(() -> {
                        go.await();
                        return group.execute(transaction(id));
                    }));
                } else {
                    results.add(group.submit(transaction(id)));
                }
            }
            go.countDown();
            int committed = 0;
            for (int i = 1; i <= 1000; i++) {
                Future<List<Integer>> f = results.get(i - 1);
                if (i % 100 == 0) {
                    try {
                        f.get(60, TimeUnit.SECONDS);
                        throw new AssertionError("caller " + i + " should have failed");
                    } catch (ExecutionException e) {
                        assertThat(e.getCause()).isInstanceOf(SQLException.class)
                                .hasMessageContaining("statement 2 of 2 failed");
                        assertThat(((SQLException) e.getCause()).getSQLState()).isEqualTo("23514");
                    }
                } else {
                    assertThat(f.get(60, TimeUnit.SECONDS)).as("caller %d's own counts", i).containsExactly(1, 1);
                    committed++;
                }
            }
            assertThat(committed).isEqualTo(990);
            BatchStats stats = group.stats();
            assertThat(stats.batches()).as("COMMITs shared: fewer groups than callers").isLessThan(1000);
            assertThat(stats.splits()).isZero();
        } finally {
            callers.shutdownNow();
        }
        assertThat(scalar("SELECT count(*) FROM ferry_gc_orders")).isEqualTo(990);
        assertThat(scalar("SELECT count(*) FROM ferry_gc_audit")).isEqualTo(990);
        assertThat(scalar("SELECT count(*) FROM ferry_gc_orders o WHERE NOT EXISTS (SELECT 1 FROM ferry_gc_audit a "
                + "WHERE a.order_id = o.id)")).as("no caller half-committed").isZero();
        assertThat(scalar("SELECT count(*) FROM ferry_gc_orders WHERE id % 100 = 0")).isZero();
    }
}
