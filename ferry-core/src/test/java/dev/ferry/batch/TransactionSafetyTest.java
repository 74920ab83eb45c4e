package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** Failures no server produces on demand: an Error mid-transaction with a failing rollback, an executor that throws. */
class TransactionSafetyTest {

    /** Statements whose SQL contains "boom" throw an Error; rollback() fails. */
    private static DataSource hostile(DataSource target) {
        ClassLoader loader = TransactionSafetyTest.class.getClassLoader();
        return (DataSource) Proxy.newProxyInstance(loader, new Class<?>[] {DataSource.class}, (p, m, args) -> {
            Object result = LostCommitTest.invoke(target, m, args);
            if (!(result instanceof Connection c)) {
                return result;
            }
            return Proxy.newProxyInstance(loader, new Class<?>[] {Connection.class}, (cp, cm, cargs) -> {
                if (cm.getName().equals("rollback") && cargs == null) {
                    throw new SQLException("rollback failed", "08006");
                }
                Object r = LostCommitTest.invoke(c, cm, cargs);
                if (r instanceof PreparedStatement ps && cargs != null && String.valueOf(cargs[0]).contains("boom")) {
                    return Proxy.newProxyInstance(loader, new Class<?>[] {PreparedStatement.class}, (sp, sm, sargs) -> {
                        if (sm.getName().startsWith("execute")) {
                            throw new AssertionError("driver bug");
                        }
                        return LostCommitTest.invoke(ps, sm, sargs);
                    });
                }
                return r;
            });
        });
    }

    @Test
    void anErrorMidTransactionWithAFailingRollbackCommitsNothing() throws Exception {
        try (FerryDataSource pool = new FerryDataSource(FerryConfig.builder()
                .jdbcUrl("jdbc:h2:mem:safety;DB_CLOSE_DELAY=-1").poolName("h2-safety").build())) {
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS ferry_safety (id BIGINT PRIMARY KEY)");
                s.execute("DELETE FROM ferry_safety");
            }
            assertThatThrownBy(() -> TransactionBatch.of(
                    TransactionBatch.statement("INSERT INTO ferry_safety (id) VALUES (?)", 1L),
                    TransactionBatch.statement("INSERT INTO ferry_safety (id) VALUES (2) -- boom"))
                    .execute(hostile(pool))).isInstanceOf(AssertionError.class);
            // Switching autocommit back on would have committed row 1; the pool rolled it back instead.
            try (Connection c = pool.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM ferry_safety")) {
                rs.next();
                assertThat(rs.getLong(1)).isZero();
            }
        }
    }

    @Test
    void anExecutorThatThrowsAnErrorFailsTheBatchAndLeaksNoSlot() throws Exception {
        ExecutorService real = Executors.newCachedThreadPool();
        AtomicBoolean refuse = new AtomicBoolean(true);
        try (Batcher<Integer, Integer> b = Batcher.<Integer, Integer>builder(keys -> Map.of(keys.get(0), 1))
                .name("test").maxInFlight(1).executor(task -> {
                    if (refuse.getAndSet(false)) {
                        throw new OutOfMemoryError("unable to create native thread");
                    }
                    real.execute(task);
                }).build()) {
            CompletableFuture<Integer> refused = b.submit(1);
            try {
                refused.get(10, TimeUnit.SECONDS);
                throw new AssertionError("expected a failure");
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(SQLException.class)
                        .hasMessageContaining("could not start a batch").hasMessageContaining("not executed");
            }
            assertThat(b.submit(2).get(10, TimeUnit.SECONDS)).as("the one slot was given back").isEqualTo(1);
        } finally {
            real.shutdownNow();
        }
    }

    @Test
    void onAPoolWithAutocommitOffWritesAndGroupsStillCommitAndTheSettingIsKept() throws Exception {
        try (FerryDataSource pool = new FerryDataSource(FerryConfig.builder()
                .jdbcUrl("jdbc:h2:mem:autocommitoff;DB_CLOSE_DELAY=-1").poolName("h2-ac-off").autoCommit(false)
                .maximumPoolSize(1).minimumIdle(0).connectionTimeout(java.time.Duration.ofMillis(500)).build())) {
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS ferry_ac (id BIGINT PRIMARY KEY)");
                s.execute("DELETE FROM ferry_ac");
                c.commit();
            }
            try (BatchedWriter<Long> writer = BatchedWriter.<Long>builder(pool)
                    .sql("INSERT INTO ferry_ac (id) VALUES (?)").bind((ps, id) -> ps.setLong(1, id)).build();
                 GroupCommit group = GroupCommit.builder(pool).build()) {
                assertThat(writer.write(1L)).isEqualTo(1);
                assertThat(group.execute(TransactionBatch.of(
                        TransactionBatch.statement("INSERT INTO ferry_ac (id) VALUES (?)", 2L)))).containsExactly(1);
            }
            try (Connection c = pool.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM ferry_ac")) {
                assertThat(c.getAutoCommit()).as("the pool's autocommit=false is what the next borrower gets").isFalse();
                rs.next();
                assertThat(rs.getLong(1)).as("both committed").isEqualTo(2);
            }
        }
    }
}
