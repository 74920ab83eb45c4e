package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What batched writes must do on every database; subclasses say which database. */
abstract class BatchedWriterContract {

    record Event(long id, String kind) {
    }

    FerryDataSource pool;
    CountingDataSource counting;

    abstract FerryConfig.Builder database();

    @BeforeEach
    void setUp() throws SQLException {
        pool = new FerryDataSource(database().maximumPoolSize(4).build());
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_write_events");
            s.execute("CREATE TABLE ferry_write_events (id BIGINT PRIMARY KEY, kind VARCHAR(20) NOT NULL)");
        }
        counting = new CountingDataSource(pool);
    }

    @AfterEach
    void tearDown() {
        pool.close();
    }

    BatchedWriter<Event> writer(int maxInFlight) {
        return BatchedWriter.<Event>builder(counting.dataSource)
                .sql("INSERT INTO ferry_write_events (id, kind) VALUES (?, ?)")
                .bind((ps, e) -> {
                    ps.setLong(1, e.id());
                    ps.setString(2, e.kind());
                })
                .maxInFlight(maxInFlight).maxBatchSize(1000)
                .build();
    }

    long count() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM ferry_write_events")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static Throwable failure(CompletableFuture<?> f) throws Exception {
        try {
            f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected a failure");
    }

    @Test
    void badRowsAreIsolatedSoTheRestCommit() throws Exception {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO ferry_write_events VALUES (250, 'existing'), (500, 'existing'), (750, 'existing')");
        }
        try (BatchedWriter<Event> writer = writer(1)) {
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            for (long id = 1; id <= 1000; id++) {
                futures.add(writer.submit(new Event(id, "new")));
            }
            int ok = 0;
            for (int i = 0; i < futures.size(); i++) {
                long id = i + 1;
                if (id == 250 || id == 500 || id == 750) {
                    Throwable e = failure(futures.get(i));
                    assertThat(e).isInstanceOf(SQLException.class);
                    assertThat(((SQLException) e).getSQLState()).startsWith("23");
                } else {
                    assertThat(futures.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(1);
                    ok++;
                }
            }
            assertThat(ok).isEqualTo(997);
            assertThat(count()).as("997 new rows + 3 that existed").isEqualTo(1000);
            BatchStats stats = writer.stats();
            assertThat(stats.splits()).isPositive();
            assertThat(stats.batches()).as("far fewer batches than rows").isLessThan(100);
        }
    }

    @Test
    void aFutureCompletesOnlyOnceItsRowIsCommittedAndVisibleToOthers() throws Exception {
        Set<Long> invisibleAtAck = ConcurrentHashMap.newKeySet();
        try (BatchedWriter<Event> writer = writer(2); Connection observer = pool.getConnection()) {
            List<CompletableFuture<?>> acks = new ArrayList<>();
            for (long id = 1; id <= 200; id++) {
                long key = id;
                // Runs in the completing thread, at the moment of acknowledgement.
                acks.add(writer.submit(new Event(id, "acked")).thenRun(() -> {
                    if (!visible(key)) {
                        invisibleAtAck.add(key);
                    }
                }));
            }
            CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
            assertThat(invisibleAtAck).as("acknowledged before commit").isEmpty();
            assertThat(count()).isEqualTo(200);
            assertThat(observer.isValid(1)).isTrue();
        }
    }

    private boolean visible(long id) {
        try (Connection c = pool.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM ferry_write_events WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void killSwitchWritesEachRowInItsOwnTransaction() throws Exception {
        try (BatchedWriter<Event> writer = writer(1)) {
            writer.setEnabled(false);
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            for (long id = 1; id <= 20; id++) {
                futures.add(writer.submit(new Event(id, "alone")));
            }
            for (CompletableFuture<Integer> f : futures) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            }
            assertThat(writer.stats().batches()).isEqualTo(20);
            assertThat(count()).isEqualTo(20);
        }
    }
}
