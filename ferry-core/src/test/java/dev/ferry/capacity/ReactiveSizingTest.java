package dev.ferry.capacity;

import static dev.ferry.capacity.Loads.MS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The reactive policy's arithmetic, period by period, on an injected clock (PoolLoad.nanoTime). */
class ReactiveSizingTest {

    private static final long S = 1_000 * MS;

    private final ReactiveSizing policy = ReactiveSizing.builder().targetUtilization(0.7)
            .window(Duration.ofSeconds(10)).calmPeriod(Duration.ofSeconds(60)).build();

    @Test
    void growsAtOnceToTheSizeAtWhichTheMeanDemandIsTheTargetUtilization() {
        assertThat(policy.target(Loads.at(0, 0, 0))).isZero();
        // demand 0 then 14: mean 7 over the window, 7 / 0.7 = 10 connections
        assertThat(policy.target(Loads.at(S, 14, 0))).isEqualTo(10);
        // waiting callers are demand too: mean of 0, 14, 14+7 = 11.67 -> ceil(16.67) = 17
        assertThat(policy.target(Loads.at(2 * S, 14, 7))).isEqualTo(17);
    }

    @Test
    void shrinksOnlyAfterACalmPeriodOfLowerDemand() {
        for (int i = 0; i <= 10; i++) {
            policy.target(Loads.at(i * S, 14, 0)); // a full window at 14: target 20
        }
        assertThat(policy.target(Loads.at(11 * S, 14, 0))).isEqualTo(20);
        long quietFrom = 12 * S;
        for (long t = quietFrom; t < quietFrom + 60 * S; t += S) {
            assertThat(policy.target(Loads.at(t, 0, 0))).as("at %d s", t / S).isEqualTo(20);
        }
        assertThat(policy.target(Loads.at(quietFrom + 60 * S, 0, 0))).isZero();
    }

    @Test
    void aBusyPeriodDuringTheCalmRestartsIt() {
        for (int i = 0; i <= 10; i++) {
            policy.target(Loads.at(i * S, 7, 0)); // target 10
        }
        for (int i = 11; i < 40; i++) {
            policy.target(Loads.at(i * S, 0, 0));
        }
        policy.target(Loads.at(40 * S, 70, 0)); // a burst: mean over the window jumps
        for (int i = 41; i < 41 + 59; i++) {
            assertThat(policy.target(Loads.at(i * S, 0, 0))).isGreaterThanOrEqualTo(10);
        }
    }

    @Test
    void doesNotOpenConnectionsThatWouldArriveAfterTheQueueHasDrained() {
        // HikariCP's spike test: 5 lent, 45 waiting, 2 ms holds, 150 ms connects: 5 * 150 / 2 = 375 returns
        // before a new connection could be ready, for 45 waiters.
        assertThat(policy.grow(Loads.waiting(5, 0, 45, 0, 2 * MS, MS, 150 * MS))).isFalse();
        // The first instant of the spike: no hold measured yet, connections lent a moment ago.
        assertThat(policy.grow(Loads.waiting(5, 0, 45, 0, 0, 10_000, 150 * MS))).isFalse();
    }

    @Test
    void opensConnectionsBehindLongHolds() {
        // 1 s holds, 150 ms connects: 5 * 0.15 = 0.75 returns before a new one is ready, 45 waiters.
        assertThat(policy.grow(Loads.waiting(5, 0, 45, 0, 1_000 * MS, 500 * MS, 150 * MS))).isTrue();
        // Holds usually short, but the ones out now have been out for 2 s: expected to last.
        assertThat(policy.grow(Loads.waiting(5, 0, 45, 0, 2 * MS, 2_000 * MS, 150 * MS))).isTrue();
    }

    @Test
    void connectsAlreadyUnderWayAndIdleConnectionsCountAgainstTheQueue() {
        // 10 waiters, 1 s holds, 150 ms connect: 5 * 0.15 = 0.75 returns; 10 - 0.75 = 9.25 unserved
        assertThat(policy.grow(Loads.waiting(5, 0, 10, 9, 1_000 * MS, 0, 150 * MS))).isTrue();
        assertThat(policy.grow(Loads.waiting(5, 0, 10, 10, 1_000 * MS, 0, 150 * MS))).isFalse();
        assertThat(policy.grow(Loads.waiting(5, 10, 10, 0, 1_000 * MS, 0, 150 * MS))).isFalse();
    }

    @Test
    void aLoneCallerBesideNothingLentGetsAConnection() {
        // Nothing lent: nothing will come back (the minimumIdle-0 case of issue 7).
        assertThat(policy.grow(Loads.waiting(0, 0, 1, 0, 2 * MS, 0, 150 * MS))).isTrue();
        // No connect time measured yet: nothing to weigh, so open.
        assertThat(policy.grow(Loads.waiting(5, 0, 45, 0, 2 * MS, MS, 0))).isTrue();
        // No hold measured (the policy was set while these were out): nothing to weigh, so open.
        assertThat(policy.grow(Loads.waiting(5, 0, 45, 0, 0, 0, 150 * MS))).isTrue();
    }

    @Test
    void keepsMinimumIdleOnlyWhenLentConnectionsWillNotBeBackFirst() {
        // Nobody waits; all 5 lent, minimumIdle 5. Short holds: they are back long before a connect ends.
        PoolLoad shortHolds = new PoolLoad(0, Loads.MONDAY, 5, 5, 0, 0, 0, 50, 5, 2 * MS, MS, 150 * MS, 5, 5);
        assertThat(policy.grow(shortHolds)).isFalse();
        // Long holds: keep the idle ones the user asked for.
        PoolLoad longHolds = new PoolLoad(0, Loads.MONDAY, 5, 5, 0, 0, 0, 50, 5, 2_000 * MS, 900 * MS, 150 * MS, 5, 5);
        assertThat(policy.grow(longHolds)).isTrue();
        // Callers waiting: the question is theirs alone (15 waiting vs 14.7 returns would be yes with minimumIdle
        // added; 10 waiting is no).
        PoolLoad queue = new PoolLoad(0, Loads.MONDAY, 5, 5, 0, 10, 0, 50, 5, 0, 51 * MS, 150 * MS, 5, 5);
        assertThat(policy.grow(queue)).isFalse();
    }

    @Test
    void retiresIdleConnectionsAfterTheCalmPeriod() {
        assertThat(policy.retireIdleAfter()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void settingsOutOfBoundsFailNamingTheSetting() {
        assertThatThrownBy(() -> ReactiveSizing.builder().targetUtilization(0))
                .hasMessageContaining("targetUtilization: got 0.0");
        assertThatThrownBy(() -> ReactiveSizing.builder().targetUtilization(1.5))
                .hasMessageContaining("allowed: above 0 and at most 1");
        assertThatThrownBy(() -> ReactiveSizing.builder().window(Duration.ZERO)).hasMessageContaining("window");
        assertThatThrownBy(() -> ReactiveSizing.builder().calmPeriod(Duration.ofSeconds(-1)))
                .hasMessageContaining("calmPeriod");
    }
}
