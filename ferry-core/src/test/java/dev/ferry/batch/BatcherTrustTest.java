package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What issue 8 found: user callbacks under the batcher's lock, needless bisection, interrupts and cancels that
 * lied about outcomes, deadlines not kept past the queue. Time is the fake ticker's; batches are held in flight
 * by a latch.
 */
class BatcherTrustTest extends BatcherFixture {

    private static SQLException failure(CompletableFuture<?> f) throws Exception {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(SQLException.class);
            return (SQLException) e.getCause();
        }
        throw new AssertionError("expected a failure, got a value");
    }

    @Test
    void aFallbackThatBlocksOnTheSameBatcherCompletesAndCloseReturns() throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).timeout(Duration.ofMillis(250)).build();
            hold();
            CompletableFuture<Integer> first = b.submit(1);
            await().until(() -> calls.size() == 1);
            // The ordinary fallback: on failure, ask the same batcher for another key (blocking).
            CompletableFuture<Integer> withFallback = b.submit(2).exceptionally(e -> {
                try {
                    return b.get(99);
                } catch (SQLException x) {
                    throw new IllegalStateException(x);
                }
            });
            // The deadline sweep fails request 2; its fallback then waits for the slot batch 1 holds.
            CompletableFuture<Void> sweep = CompletableFuture.runAsync(() -> scheduler.advance(Duration.ofMillis(250)));
            await().until(() -> b.queued() == 1); // the fallback's request is queued behind batch 1
            open();
            assertThat(value(withFallback)).isEqualTo(198);
            assertThat(value(first)).isEqualTo(2);
            sweep.get(10, TimeUnit.SECONDS);
            b.close();
        });
    }

    @Test
    void callbacksRunAfterTheSlotIsReleasedSoTheyCanUseTheBatcher() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).build()) {
            CompletableFuture<Integer> chained = b.submit(1).thenCompose(v -> {
                try {
                    return CompletableFuture.completedFuture(b.get(v + 10));
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(value(chained)).isEqualTo(24);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"55P03", "42P01", "53200", "25006", "57014"})
    void errorsThatDoNotBelongToARowFailTheWholeBatchAfterOneExecution(String sqlState) throws Exception {
        AtomicInteger executions = new AtomicInteger();
        try (Batcher<Integer, Integer> b = builder(keys -> {
            executions.incrementAndGet();
            calls.add(List.copyOf(keys));
            awaitGate();
            if (keys.size() > 1) {
                throw new SQLException("error " + sqlState, sqlState);
            }
            return Map.of(keys.get(0), 0);
        }).maxInFlight(1).build()) {
            hold();
            CompletableFuture<Integer> first = b.submit(0);
            await().until(() -> calls.size() == 1);
            List<CompletableFuture<Integer>> batch = new ArrayList<>();
            for (int k = 1; k <= 100; k++) {
                batch.add(b.submit(k));
            }
            open();
            value(first);
            for (CompletableFuture<Integer> f : batch) {
                assertThat(failure(f).getSQLState()).isEqualTo(sqlState);
            }
            assertThat(executions.get()).as("the batch of 100 ran once: not bisected").isEqualTo(2);
            assertThat(b.stats().splits()).isZero();
        }
    }

    @Test
    void userCodeThatThrowsForOneKeyFailsOnlyThatKey() throws Exception {
        try (Batcher<Integer, Integer> b = builder(keys -> {
            calls.add(List.copyOf(keys));
            awaitGate();
            if (keys.contains(13)) {
                throw new IllegalArgumentException("cannot bind 13");
            }
            Map<Integer, Integer> out = new HashMap<>();
            keys.forEach(k -> out.put(k, k));
            return out;
        }).maxInFlight(1).maxBatchSize(200).build()) {
            hold();
            CompletableFuture<Integer> first = b.submit(0);
            await().until(() -> calls.size() == 1);
            List<CompletableFuture<Integer>> batch = new ArrayList<>();
            for (int k = 1; k <= 200; k++) {
                batch.add(b.submit(k));
            }
            open();
            value(first);
            for (int k = 1; k <= 200; k++) {
                if (k == 13) {
                    assertThat((Throwable) failure(batch.get(k - 1))).hasMessageContaining("cannot bind 13")
                            .hasRootCauseInstanceOf(IllegalArgumentException.class);
                } else {
                    assertThat(value(batch.get(k - 1))).isEqualTo(k);
                }
            }
        }
    }

    @Test
    void aCancelledRequestThatWasStillQueuedIsNeverExecuted() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).build()) {
            hold();
            CompletableFuture<Integer> first = b.submit(1);
            await().until(() -> calls.size() == 1);
            CompletableFuture<Integer> cancelled = b.submit(2);
            CompletableFuture<Integer> kept = b.submit(3);
            assertThat(cancelled.cancel(true)).isTrue();
            assertThat(first.cancel(true)).as("already sent: cannot be cancelled").isFalse();
            open();
            assertThat(value(first)).isEqualTo(2);
            assertThat(value(kept)).isEqualTo(6);
            assertThat(cancelled).isCancelled();
            assertThat(calls).containsExactly(List.of(1), List.of(3));
            assertThat(b.stats().withdrawn()).isEqualTo(1);
        }
    }

    @Test
    void anInterruptedCallerWhoseRequestWasQueuedWithdrawsIt() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).maxInFlight(1).build()) {
            hold();
            CompletableFuture<Integer> first = b.submit(1);
            await().until(() -> calls.size() == 1);
            AtomicReference<Throwable> seen = new AtomicReference<>();
            Thread caller = new Thread(() -> {
                try {
                    b.get(2);
                } catch (SQLException e) {
                    seen.set(e);
                }
            });
            caller.start();
            await().until(() -> b.queued() == 1);
            caller.interrupt();
            caller.join(10_000);
            assertThat(seen.get()).isInstanceOf(SQLException.class).isNotInstanceOf(OutcomeUnknownException.class)
                    .hasMessageContaining("had not been sent and never will be");
            assertThat(((SQLException) seen.get()).getSQLState()).isEqualTo("HY008");
            open();
            value(first);
            b.submit(3).get(10, TimeUnit.SECONDS); // drains the queue past the withdrawn request
            assertThat(calls).as("key 2 never sent").doesNotContain(List.of(2)).noneMatch(c -> c.contains(2));
        }
    }

    @Test
    void anInterruptedWriterWhoseWriteWasSentIsToldTheOutcomeIsUnknown() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).build()) { // a write: not declared read-only
            hold();
            AtomicReference<Throwable> seen = new AtomicReference<>();
            Thread caller = new Thread(() -> {
                try {
                    b.get(7);
                } catch (SQLException e) {
                    seen.set(e);
                }
            });
            caller.start();
            await().until(() -> calls.size() == 1); // sent, running on the executor
            caller.interrupt();
            caller.join(10_000);
            assertThat(seen.get()).isInstanceOf(OutcomeUnknownException.class)
                    .hasMessageContaining("had already been sent and may still commit");
            assertThat(((SQLException) seen.get()).getSQLState()).isEqualTo("08007");
            open();
            await().until(() -> b.stats().executions() == 1);
            assertThat(b.stats().outcomeUnknown()).isEqualTo(1);
        }
    }

    @Test
    void aCallerInterruptedWhileRunningOthersReadsDoesNotFailThem() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        try (Batcher<Integer, Integer> b = builder(keys -> {
            if (attempts.incrementAndGet() == 1) {
                // The caller's interrupt lands while the batch waits for a connection, as a pool reports it.
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while waiting for a connection", "HY008");
            }
            return Map.of(keys.get(0), 42);
        }).retryConnectionFaults(true).build()) {
            assertThat(b.get(1)).isEqualTo(42);
            assertThat(Thread.interrupted()).as("the caller's interrupt status is kept").isTrue();
            assertThat(attempts.get()).isEqualTo(2);
        }
    }

    @Test
    void aRequestWhoseDeadlinePassedBeforeItsBatchStartedIsNotSent() throws Exception {
        ConcurrentLinkedQueue<Runnable> started = new ConcurrentLinkedQueue<>();
        try (Batcher<Integer, Integer> b = Batcher.builder(doubler).name("test").ticker(ticker)
                .scheduler(scheduler).executor(started::add).timeout(Duration.ofMillis(100)).build()) {
            CompletableFuture<Integer> late = b.submit(1);
            ticker.advance(Duration.ofMillis(100)); // the executor was slow to start the batch
            started.poll().run();
            assertThat((Throwable) failure(late)).isInstanceOf(SQLTimeoutException.class)
                    .hasMessageContaining("timed out before it was executed; not executed");
            assertThat(calls).isEmpty();
        }
    }

    @Test
    void retriesStopAtTheEarliestDeadline() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        try (Batcher<Integer, Integer> b = builder(keys -> {
            attempts.incrementAndGet();
            throw new SQLException("could not serialize access", "40001");
        }).timeout(Duration.ofMillis(2)).maxRetries(5).build()) {
            assertThat(failure(b.submit(1)).getSQLState()).isEqualTo("40001");
            assertThat(attempts.get()).as("no backoff fits before the deadline").isEqualTo(1);
            assertThat(b.stats().retries()).isZero();
        }
    }

    @Test
    void theFunctionIsToldTheTimeLeftUntilTheEarliestDeadline() throws Exception {
        List<Long> told = new CopyOnWriteArrayList<>();
        try (Batcher<Integer, Integer> b = new BatcherBuilder<Integer, Integer>((keys, remaining, priority) -> {
            told.add(remaining);
            return Map.of(keys.get(0), 1);
        }, true, false).name("test").ticker(ticker).scheduler(scheduler).executor(executor)
                .timeout(Duration.ofSeconds(2)).build()) {
            ticker.advance(Duration.ZERO);
            CompletableFuture<Integer> f = b.submit(1);
            value(f);
            assertThat(told).containsExactly(Duration.ofSeconds(2).toNanos());
        }
    }

    @Test
    void aNullKeyFailsItsOwnFuture() throws Exception {
        try (Batcher<Integer, Integer> b = builder(doubler).build()) {
            CompletableFuture<Integer> f = b.submit(null);
            assertThat(failure(f).getSQLState()).isEqualTo("22004");
            assertThat(value(b.submit(4))).isEqualTo(8);
        }
    }

    @Test
    void batchersSharingABudgetNeverRunMoreBatchesThanIt() throws Exception {
        InFlightBudget budget = new InFlightBudget(() -> 2);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        BatchFunction<Integer, Integer> slow = keys -> {
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            running.decrementAndGet();
            return Map.of(keys.get(0), 1);
        };
        try (Batcher<Integer, Integer> a = builder(slow).maxInFlight(2).maxBatchSize(1).budget(budget).build();
             Batcher<Integer, Integer> c = builder(slow).maxInFlight(2).maxBatchSize(1).budget(budget).build()) {
            List<CompletableFuture<Integer>> all = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                all.add((i % 2 == 0 ? a : c).submit(i));
            }
            for (CompletableFuture<Integer> f : all) {
                assertThat(value(f)).isEqualTo(1);
            }
            assertThat(most.get()).isEqualTo(2);
            assertThat(budget.inUse()).isZero();
        }
    }

    @Test
    void aLingeringGroupWaitingForTheSharedBudgetArmsNoZeroDelayTimers() throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            InFlightBudget budget = new InFlightBudget(() -> 1);
            try (Batcher<Integer, Integer> holder = builder(doubler).budget(budget).build();
                 Batcher<Integer, Integer> lingering = builder(doubler).budget(budget)
                         .linger(Duration.ofMillis(10), 5).build()) {
                hold();
                CompletableFuture<Integer> first = holder.submit(1); // takes the only permit
                await().until(() -> calls.size() == 1);
                CompletableFuture<Integer> waiting = lingering.submit(2);
                // Past the linger time with the budget spent: a timer re-armed at zero delay would make this
                // advance run forever.
                scheduler.advance(Duration.ofMillis(20));
                assertThat(waiting).isNotDone();
                open();
                assertThat(value(first)).isEqualTo(2);
                assertThat(value(waiting)).as("woken by the permit's return").isEqualTo(4);
            }
        });
    }

    @Test
    void everyRequestCompletesWhenCloseRacesSubmits() throws Exception {
        for (int round = 0; round < 20; round++) {
            Batcher<Integer, Integer> b = builder(doubler).maxInFlight(2).build();
            List<CompletableFuture<Integer>> futures = new CopyOnWriteArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> submitters = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int base = t * 1000;
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < 200; i++) {
                        futures.add(b.submit(base + i));
                    }
                });
                th.start();
                submitters.add(th);
            }
            go.countDown();
            b.close();
            for (Thread th : submitters) {
                th.join(10_000);
            }
            for (CompletableFuture<Integer> f : futures) {
                try {
                    f.get(10, TimeUnit.SECONDS); // completes: with a value, or failed as closed
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(SQLException.class);
                }
            }
        }
    }

    @Test
    void aSchedulerThatRefusesDoesNotLeakASlot() throws Exception {
        try (Batcher<Integer, Integer> b = Batcher.builder(doubler).name("test").ticker(ticker)
                .scheduler((task, delay) -> {
                    throw new java.util.concurrent.RejectedExecutionException("shut down");
                }).executor(executor).maxInFlight(1).build()) {
            hold();
            CompletableFuture<Integer> first = b.submit(1);
            await().until(() -> calls.size() == 1);
            CompletableFuture<Integer> second = b.submit(2); // arming its timer fails
            open();
            assertThat(value(first)).isEqualTo(2);
            assertThat(value(second)).isEqualTo(4);
        }
    }

    @Test
    void aRowErrorClassifierThatThrowsIsTreatedAsNotARowErrorAndSettingsAreChecked() {
        ErrorPolicy policy = new ErrorPolicy(false, e -> {
            throw new IllegalStateException("bug");
        });
        assertThat(policy.classify(new SQLException("x", "XX000"))).isEqualTo(ErrorPolicy.Action.FAIL);
        assertThatThrownBy(() -> Batcher.builder(doubler).maxRetries(-1).build())
                .hasMessage("maxRetries: got -1; allowed: 0 or more");
    }
}
