package dev.ferry.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.FakeTicker;
import dev.ferry.ha.HostHealth.Host;
import dev.ferry.ha.HostHealth.Role;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** PgCat's ban rules and least-outstanding routing, on a fake clock. */
class HostHealthTest {

    private final FakeTicker ticker = new FakeTicker();
    private final Host primary = new Host("pg1", Role.PRIMARY);
    private final Host r1 = new Host("pg2", Role.REPLICA);
    private final Host r2 = new Host("pg3", Role.REPLICA);
    private final HostHealth health = new HostHealth(List.of(primary, r1, r2), Duration.ofSeconds(60), ticker);

    @Test
    void aFailedReplicaIsBannedForBanTimeThenTriedAgain() {
        assertThat(health.failed(r1, "connect refused")).isTrue();
        assertThat(health.isBanned(r1)).isTrue();
        assertThat(health.banReason(r1)).isEqualTo("connect refused");
        assertThat(health.usableReplicas()).containsExactly(r2);
        ticker.advance(Duration.ofSeconds(59));
        assertThat(health.isBanned(r1)).isTrue();
        ticker.advance(Duration.ofSeconds(1));
        assertThat(health.isBanned(r1)).isFalse();
        assertThat(health.banReason(r1)).isNull();
        assertThat(health.usableReplicas()).containsExactly(r1, r2);
    }

    @Test
    void thePrimaryIsNeverBannedAndTakesReadsWhileEveryReplicaIsBanned() {
        assertThat(health.failed(primary, "timeout")).isFalse();
        assertThat(health.isBanned(primary)).isFalse();
        health.failed(r1, "x");
        health.failed(r2, "x");
        assertThat(health.forRead(h -> 0)).isEqualTo(primary);
        assertThat(health.isBanned(r1)).as("still banned: not retried on every read").isTrue();
    }

    @Test
    void whenEveryReplicaIsBannedAndThePrimaryTakesNoReadsAllAreUnbanned() {
        HostHealth pgcat = new HostHealth(List.of(primary, r1, r2), Duration.ofSeconds(60), ticker, false);
        pgcat.failed(r1, "a");
        ticker.advance(Duration.ofSeconds(10));
        pgcat.failed(r2, "b");
        assertThat(pgcat.usableReplicas()).containsExactly(r1, r2);
        assertThat(pgcat.isBanned(r1)).isFalse();
        assertThat(pgcat.isBanned(r2)).isFalse();
        assertThat(pgcat.forRead(h -> 0)).isIn(r1, r2);
    }

    @Test
    void readsGoToTheLeastBusyUsableReplicaElseThePrimary() {
        Map<Host, Integer> outstanding = Map.of(primary, 0, r1, 5, r2, 2);
        assertThat(health.forRead(outstanding::get)).isEqualTo(r2);
        health.failed(r2, "lagging");
        assertThat(health.forRead(outstanding::get)).isEqualTo(r1);
        HostHealth primaryOnly = new HostHealth(List.of(primary), Duration.ofSeconds(1), ticker);
        assertThat(primaryOnly.forRead(h -> 0)).isEqualTo(primary);
        HostHealth replicasOnly = new HostHealth(List.of(r1), Duration.ofSeconds(1), ticker);
        assertThat(replicasOnly.primary()).isNull();
    }

    @Test
    void bansWorkWhateverTheTickersOrigin() {
        for (long origin : new long[] {Long.MAX_VALUE - 5_000_000_000L, -7_000_000_000L, 0}) {
            long[] clock = {origin};
            HostHealth h = new HostHealth(List.of(primary, r1, r2), Duration.ofSeconds(60), () -> clock[0]);
            h.failed(r1, "x");
            assertThat(h.isBanned(r1)).as("origin %d", origin).isTrue();
            clock[0] += Duration.ofSeconds(61).toNanos(); // may wrap past Long.MAX_VALUE: differences still hold
            assertThat(h.isBanned(r1)).as("origin %d", origin).isFalse();
        }
    }

    @Test
    void settingsAreChecked() {
        assertThatThrownBy(() -> new HostHealth(List.of(primary, new Host("pg9", Role.PRIMARY)), Duration.ofSeconds(1),
                ticker)).hasMessageContaining("more than one primary");
        assertThatThrownBy(() -> new HostHealth(List.of(primary), Duration.ZERO, ticker))
                .hasMessageContaining("banTime: got PT0S; allowed: a positive duration");
    }
}
