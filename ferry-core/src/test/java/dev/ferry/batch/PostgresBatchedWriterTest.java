package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.FerryConfig;
import dev.ferry.Postgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Batched writes on PostgreSQL, plus what only a real server can show: forced rollbacks and retries. */
class PostgresBatchedWriterTest extends BatchedWriterContract {

    @Override
    FerryConfig.Builder database() {
        return Postgres.config(Postgres.uniqueApplicationName("writer"));
    }

    @Test
    void afterAForcedRollbackNoCallerIsToldItSucceeded() throws Exception {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_write_child");
            s.execute("DROP TABLE IF EXISTS ferry_write_parent");
            s.execute("CREATE TABLE ferry_write_parent (id BIGINT PRIMARY KEY)");
            // Checked at COMMIT: every batch passes its INSERTs and is rolled back by the COMMIT itself.
            s.execute("CREATE TABLE ferry_write_child (id BIGINT PRIMARY KEY, parent BIGINT REFERENCES "
                    + "ferry_write_parent (id) DEFERRABLE INITIALLY DEFERRED)");
        }
        try (BatchedWriter<Long> orphans = BatchedWriter.<Long>builder(pool)
                .sql("INSERT INTO ferry_write_child (id, parent) VALUES (?, ?)")
                .bind((ps, id) -> {
                    ps.setLong(1, id);
                    ps.setLong(2, 1_000_000 + id); // no such parent
                })
                .maxInFlight(1).build()) {
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            for (long id = 1; id <= 50; id++) {
                futures.add(orphans.submit(id));
            }
            for (CompletableFuture<Integer> f : futures) {
                Throwable e = failure(f);
                assertThat(e).isInstanceOf(SQLException.class).hasMessageContaining("COMMIT failed");
                assertThat(((SQLException) e).getSQLState()).isEqualTo("23503");
            }
        }
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT count(*) FROM ferry_write_child")) {
            rs.next();
            assertThat(rs.getLong(1)).isZero();
        }
    }

    @Test
    void serializationFailuresAndDeadlocksAreRetried() throws Exception {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            // A sequence is not transactional, so the trigger fails exactly the first two attempts.
            s.execute("DROP SEQUENCE IF EXISTS ferry_write_attempts");
            s.execute("CREATE SEQUENCE ferry_write_attempts");
            s.execute("CREATE OR REPLACE FUNCTION ferry_write_flaky() RETURNS trigger AS $$ "
                    + "DECLARE n bigint := nextval('ferry_write_attempts'); BEGIN "
                    + "IF n = 1 THEN RAISE EXCEPTION 'simulated' USING ERRCODE = 'serialization_failure'; END IF; "
                    + "IF n = 2 THEN RAISE EXCEPTION 'simulated' USING ERRCODE = 'deadlock_detected'; END IF; "
                    + "RETURN NEW; END $$ LANGUAGE plpgsql");
            s.execute("CREATE TRIGGER ferry_write_flaky BEFORE INSERT ON ferry_write_events "
                    + "FOR EACH STATEMENT EXECUTE FUNCTION ferry_write_flaky()");
        }
        try (BatchedWriter<Event> writer = writer(1)) {
            assertThat(writer.write(new Event(1, "retried"))).isEqualTo(1);
            assertThat(writer.stats().retries()).isEqualTo(2);
        }
        assertThat(count()).isEqualTo(1);
    }

    @Test
    void upsertsAreBatchedToo() throws Exception {
        try (BatchedWriter<Event> upserts = BatchedWriter.<Event>builder(pool)
                .sql("INSERT INTO ferry_write_events (id, kind) VALUES (?, ?) "
                        + "ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind")
                .bind((ps, e) -> {
                    ps.setLong(1, e.id());
                    ps.setString(2, e.kind());
                })
                .build()) {
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (long id = 1; id <= 100; id++) {
                    futures.add(upserts.submit(new Event(id, "v" + round)));
                }
                for (CompletableFuture<Integer> f : futures) {
                    f.get(30, TimeUnit.SECONDS);
                }
            }
        }
        assertThat(count()).isEqualTo(100);
    }

    @Test
    void aRewritingDriverThatCannotCountRowsIsReportedAsNoInfoNotAsOneRow() throws Exception {
        try (dev.ferry.FerryDataSource rewriting = new dev.ferry.FerryDataSource(Postgres.config(
                Postgres.uniqueApplicationName("rewrite")).dataSourceProperty("reWriteBatchedInserts", "true")
                .maximumPoolSize(2).build());
             BatchedWriter<Long> inserts = BatchedWriter.<Long>builder(rewriting)
                     .sql("INSERT INTO ferry_write_events (id, kind) VALUES (?, 'x') ON CONFLICT DO NOTHING")
                     .bind((ps, id) -> ps.setLong(1, id)).maxInFlight(1).build()) {
            CompletableFuture<Integer> first = inserts.submit(1L);
            List<CompletableFuture<Integer>> rest = new ArrayList<>();
            for (long id = 1; id <= 20; id++) { // id 1 again: skipped by ON CONFLICT DO NOTHING
                rest.add(inserts.submit(id));
            }
            first.get(30, TimeUnit.SECONDS);
            for (CompletableFuture<Integer> f : rest) {
                assertThat(f.get(30, TimeUnit.SECONDS)).as("1, 0, or SUCCESS_NO_INFO; never a made-up 1 for a "
                        + "rewritten row").isIn(0, 1, Statement.SUCCESS_NO_INFO);
            }
            assertThat(rest).anySatisfy(f -> assertThat(f.join()).isEqualTo(Statement.SUCCESS_NO_INFO));
        }
        assertThat(count()).isEqualTo(20);
    }
}
