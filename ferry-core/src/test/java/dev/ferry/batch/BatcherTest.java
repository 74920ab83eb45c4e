package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ferry.Priority;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The batcher's scheduling logic, with a fake ticker and a manual scheduler: time moves only when the test moves
 * it. Batches run on a real executor so a batch can be held "in flight" by a latch.
 */
class BatcherTest extends BatcherFixture {

    private static Throwable failure(CompletableFuture<?> f) {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(SQLException.class);
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("expected a failure, got a value");
    }

    @Test
    void idleRequestGoesAloneAtOnceWithNoTimerFloor() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).build()) {
            assertThat(value(b.submit(21))).isEqualTo(42);
            assertThat(calls).containsExactly(List.of(21));
            assertThat(scheduler.pending()).as("no timer involved").isZero();
            assertThat(b.stats().flushReasons().get(FlushReason.NATURAL)).isEqualTo(1);
        }
    }

    @Test
    void requestsArrivingWhileSlotsAreBusyFormTheNextBatch() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).build()) {
            hold();
            CompletableFuture<Integer> first = b.submit(1);
            await().until(() -> calls.size() == 1);
            List<CompletableFuture<Integer>> rest = new ArrayList<>();
            for (int k = 2; k <= 6; k++) {
                rest.add(b.submit(k));
            }
            assertThat(b.queued()).isEqualTo(5);
            open();
            assertThat(value(first)).isEqualTo(2);
            for (int i = 0; i < rest.size(); i++) {
                assertThat(value(rest.get(i))).isEqualTo((i + 2) * 2);
            }
            assertThat(calls).containsExactly(List.of(1), List.of(2, 3, 4, 5, 6));
            BatchStats stats = b.stats();
            assertThat(stats.requests()).isEqualTo(6);
            assertThat(stats.batches()).isEqualTo(2);
            assertThat(stats.efficiency()).isEqualTo(3.0);
            assertThat(stats.sizeHistogram()).containsEntry(1, 1L).containsEntry(4, 1L);
        }
    }

    @Test
    void batchesAreCappedAtMaxBatchSize() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).maxBatchSize(3).build()) {
            hold();
            CompletableFuture<Integer> first = b.submit(0);
            await().until(() -> calls.size() == 1);
            List<CompletableFuture<Integer>> rest = new ArrayList<>();
            for (int k = 1; k <= 7; k++) {
                rest.add(b.submit(k));
            }
            open();
            value(first);
            for (CompletableFuture<Integer> f : rest) {
                value(f);
            }
            assertThat(calls).containsExactly(List.of(0), List.of(1, 2, 3), List.of(4, 5, 6), List.of(7));
            assertThat(b.stats().flushReasons().get(FlushReason.FULL)).isEqualTo(2);
        }
    }

    @Test
    void duplicateKeysInABatchAreSentOnce() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).build()) {
            hold();
            CompletableFuture<Integer> first = b.submit(0);
            await().until(() -> calls.size() == 1);
            CompletableFuture<Integer> a = b.submit(7);
            CompletableFuture<Integer> c = b.submit(7);
            CompletableFuture<Integer> d = b.submit(8);
            open();
            value(first);
            assertThat(value(a)).isEqualTo(14);
            assertThat(value(c)).isEqualTo(14);
            assertThat(value(d)).isEqualTo(16);
            assertThat(calls.get(1)).containsExactly(7, 8);
        }
    }

    @Test
    void queuedRequestPastItsDeadlineFailsAndIsNeverExecuted() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).timeout(Duration.ofMillis(500)).build()) {
            hold();
            CompletableFuture<Integer> first = b.submit(1);
            await().until(() -> calls.size() == 1);
            CompletableFuture<Integer> late = b.submit(2);
            scheduler.advance(Duration.ofMillis(499));
            assertThat(late).isNotDone();
            scheduler.advance(Duration.ofMillis(1));
            assertThat(failure(late)).isInstanceOf(SQLTimeoutException.class)
                    .hasMessageContaining("test - request timed out after 500ms in the batch queue and was not executed");
            open();
            value(first);
            assertThat(calls).as("the expired request was never sent").containsExactly(List.of(1));
            assertThat(b.stats().timedOut()).isEqualTo(1);
        }
    }

    @Test
    void fullQueueRejectsAtOnce() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).maxQueued(2).build()) {
            hold();
            b.submit(1);
            await().until(() -> calls.size() == 1);
            b.submit(2);
            b.submit(3);
            CompletableFuture<Integer> rejected = b.submit(4);
            assertThat(failure(rejected)).isInstanceOf(SQLTransientException.class)
                    .hasMessage("test - batch queue is full (maxQueued=2); request rejected, not executed");
            assertThat(b.stats().rejected()).isEqualTo(1);
            open();
        }
    }

    @Test
    void fullQueueBlocksUntilThereIsRoomWithBlockPolicy() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).maxQueued(1)
                .overflow(OverflowPolicy.BLOCK).build()) {
            hold();
            CompletableFuture<Integer> first = b.submit(1);
            await().until(() -> calls.size() == 1);
            CompletableFuture<Integer> queued = b.submit(2);
            CompletableFuture<CompletableFuture<Integer>> blocked = CompletableFuture.supplyAsync(() -> b.submit(3));
            Thread.onSpinWait();
            assertThat(blocked).isNotDone();
            open();
            assertThat(value(value(blocked))).isEqualTo(6);
            assertThat(value(first)).isEqualTo(2);
            assertThat(value(queued)).isEqualTo(4);
        }
    }

    @Test
    void criticalRequestBypassesTheQueueAndTheInFlightLimit() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).build()) {
            hold();
            CompletableFuture<Integer> first = b.submit(1);
            await().until(() -> calls.size() == 1);
            CompletableFuture<Integer> normal = b.submit(2);
            CompletableFuture<Integer> critical = b.submit(3, Priority.CRITICAL);
            await().until(() -> calls.size() == 2);
            assertThat(calls.get(1)).as("critical runs at once, alone").containsExactly(3);
            assertThat(normal).isNotDone();
            open();
            assertThat(value(critical)).isEqualTo(6);
            assertThat(value(normal)).isEqualTo(4);
            value(first);
            assertThat(b.stats().flushReasons().get(FlushReason.CRITICAL)).isEqualTo(1);
        }
    }

    @Test
    void killSwitchSendsEveryRequestAloneThroughTheSamePath() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).build()) {
            b.setEnabled(false);
            hold();
            CompletableFuture<Integer> first = b.submit(1);
            await().until(() -> calls.size() == 1);
            CompletableFuture<Integer> x = b.submit(2);
            CompletableFuture<Integer> y = b.submit(3);
            open();
            value(first);
            assertThat(value(x)).isEqualTo(4);
            assertThat(value(y)).isEqualTo(6);
            assertThat(calls).containsExactly(List.of(1), List.of(2), List.of(3));
            assertThat(b.stats().flushReasons().get(FlushReason.DISABLED)).isEqualTo(3);
            b.setEnabled(true);
            assertThat(b.isEnabled()).isTrue();
        }
    }

    @Test
    void lingerHoldsABatchUntilMinBatchOrTheLingerTime() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).linger(Duration.ofMillis(100), 3).build()) {
            CompletableFuture<Integer> a = b.submit(1);
            assertThat(calls).as("lingering, not sent").isEmpty();
            scheduler.advance(Duration.ofMillis(99));
            assertThat(calls).isEmpty();
            scheduler.advance(Duration.ofMillis(1));
            assertThat(value(a)).isEqualTo(2);
            assertThat(calls).containsExactly(List.of(1));

            CompletableFuture<Integer> x = b.submit(2);
            CompletableFuture<Integer> y = b.submit(3);
            CompletableFuture<Integer> z = b.submit(4);
            assertThat(value(z)).as("minBatch reached: sent without waiting").isEqualTo(8);
            value(x);
            value(y);
            assertThat(calls.get(1)).containsExactly(2, 3, 4);
            assertThat(b.stats().flushReasons()).containsEntry(FlushReason.LINGER, 1L)
                    .containsEntry(FlushReason.MIN_BATCH, 1L);
        }
    }

    @Test
    void groupsAreBatchedSeparately() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).groupBy(k -> k % 2).build()) {
            hold();
            CompletableFuture<Integer> even = b.submit(0);
            CompletableFuture<Integer> odd = b.submit(1);
            await().until(() -> calls.size() == 2);
            List<CompletableFuture<Integer>> more = List.of(b.submit(2), b.submit(3), b.submit(4), b.submit(5));
            open();
            for (CompletableFuture<Integer> f : more) {
                value(f);
            }
            value(even);
            value(odd);
            assertThat(calls).hasSize(4).contains(List.of(2, 4), List.of(3, 5));
        }
    }

    @Test
    void bisectIsolatesBadKeysSoGoodOnesSucceed() throws Exception {
        AtomicInteger executions = new AtomicInteger();
        BatchFunction<Integer, Integer> rejectsMultiplesOf100 = keys -> {
            executions.incrementAndGet();
            calls.add(List.copyOf(keys));
            awaitGate();
            for (int k : keys) {
                if (k % 100 == 0) {
                    throw new SQLException("duplicate key value violates unique constraint (key " + k + ")", "23505");
                }
            }
            Map<Integer, Integer> out = new HashMap<>();
            keys.forEach(k -> out.put(k, k));
            return out;
        };
        try (Batcher<Integer, Integer> b = builder(rejectsMultiplesOf100).maxInFlight(1).maxBatchSize(1000)
                .build()) {
            hold();
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            futures.add(b.submit(1));
            await().until(() -> calls.size() == 1);
            for (int k = 2; k <= 1000; k++) {
                futures.add(b.submit(k)); // queue behind the first: one batch of 999 holding 10 bad keys
            }
            open();
            int ok = 0;
            for (int k = 1; k <= 1000; k++) {
                CompletableFuture<Integer> f = futures.get(k - 1);
                if (k % 100 == 0) {
                    assertThat(failure(f)).hasMessageContaining("(key " + k + ")")
                            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("23505"));
                } else {
                    assertThat(value(f)).isEqualTo(k);
                    ok++;
                }
            }
            assertThat(ok).isEqualTo(990);
            assertThat(calls.get(1)).as("the second batch held 999 keys").hasSize(999);
            assertThat(b.stats().splits()).isPositive();
            assertThat(executions.get()).as("bisection, not one call per key").isLessThan(300);
        }
    }

    @Test
    void serializationFailuresAndDeadlocksAreRetried() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        BatchFunction<Integer, Integer> flaky = keys -> {
            int n = attempts.incrementAndGet();
            if (n == 1) {
                throw new SQLException("could not serialize access", "40001");
            }
            if (n == 2) {
                throw new SQLException("deadlock detected", "40P01");
            }
            return Map.of(keys.get(0), 1);
        };
        try (Batcher<Integer, Integer> b = builder(flaky).build()) {
            assertThat(value(b.submit(5))).isEqualTo(1);
            assertThat(b.stats().retries()).isEqualTo(2);
        }
    }

    @Test
    void connectionFaultsFailTheBatchWithoutSplittingUnlessRetriesAreEnabled() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        BatchFunction<Integer, Integer> down = keys -> {
            attempts.incrementAndGet();
            throw new SQLException("connection lost", "08006");
        };
        try (Batcher<Integer, Integer> b = builder(down).maxInFlight(1).build()) {
            CompletableFuture<Integer> x = b.submit(1);
            assertThat(failure(x)).hasMessage("connection lost");
            assertThat(attempts.get()).as("not retried: a lost COMMIT may have committed").isEqualTo(1);
        }
        attempts.set(0);
        try (Batcher<Integer, Integer> b = builder(down).retryConnectionFaults(true).maxRetries(2).build()) {
            assertThat(failure(b.submit(1))).hasMessage("connection lost");
            assertThat(attempts.get()).as("reads may retry").isEqualTo(3);
        }
    }

    @Test
    void blockingGetOfAReadRunsTheBatchOnTheCallingThreadWhenASlotIsFree() throws Exception {
        List<Thread> ranOn = new CopyOnWriteArrayList<>();
        try (Batcher<Integer, Integer> b = builder(keys -> {
            ranOn.add(Thread.currentThread());
            return Map.of(keys.get(0), 1);
        }).retryConnectionFaults(true).build()) {
            assertThat(b.get(5)).isEqualTo(1);
            assertThat(ranOn).containsExactly(Thread.currentThread());
            assertThat(value(b.submit(6))).as("the async API still hands off").isEqualTo(1);
            assertThat(ranOn.get(1)).isNotSameAs(Thread.currentThread());
        }
    }

    @Test
    void blockingGetOfAWriteAlwaysHandsTheBatchToTheExecutor() throws Exception {
        List<Thread> ranOn = new CopyOnWriteArrayList<>();
        try (Batcher<Integer, Integer> b = builder(keys -> {
            ranOn.add(Thread.currentThread());
            return Map.of(keys.get(0), 1);
        }).build()) {
            assertThat(b.get(5)).isEqualTo(1);
            assertThat(ranOn).hasSize(1).doesNotContain(Thread.currentThread());
        }
    }

    @Test
    void missingKeyCompletesWithNull() throws Exception {
        try (Batcher<Integer, Integer> b = builder(keys -> Map.of()).build()) {
            assertThat(value(b.submit(1))).isNull();
        }
    }

    @Test
    void blockingGetUnwrapsTheSqlException() {
        try (Batcher<Integer, Integer> b = builder(keys -> {
            throw new SQLException("no such table", "42P01");
        }).build()) {
            assertThatThrownBy(() -> b.get(1)).isInstanceOf(SQLException.class).hasMessage("no such table");
        }
    }

    @Test
    void closeFailsQueuedRequestsAndRefusesNewOnes() throws Exception {
        Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).build();
        hold();
        CompletableFuture<Integer> first = b.submit(1);
        await().until(() -> calls.size() == 1);
        CompletableFuture<Integer> queued = b.submit(2);
        b.close();
        assertThat(failure(queued)).hasMessage("test - batcher closed before the request was sent; it was not executed");
        assertThat(failure(b.submit(3))).hasMessage("test - batcher is closed; the request was not executed");
        open();
        assertThat(value(first)).isEqualTo(2);
    }

    @Test
    void invalidSettingsNameTheSetting() {
        assertThatThrownBy(() -> Batcher.builder(doubler).maxBatchSize(0).build())
                .hasMessage("maxBatchSize: got 0; allowed: at least 1");
        assertThatThrownBy(() -> Batcher.builder(doubler).maxInFlight(0).build())
                .hasMessage("maxInFlight: got 0; allowed: at least 1");
        assertThatThrownBy(() -> Batcher.builder(doubler).timeout(Duration.ZERO).build())
                .hasMessage("timeout: got PT0S; allowed: a positive duration");
        assertThatThrownBy(() -> Batcher.builder(doubler).linger(Duration.ofMillis(10), 500).build())
                .hasMessage("minBatch: got 500; allowed: 1 to maxBatchSize (100)");
        assertThatThrownBy(() -> Batcher.builder(doubler).maxQueued(0).build())
                .hasMessage("maxQueued: got 0; allowed: at least 1");
    }
}
