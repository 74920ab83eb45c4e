package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Warm-up and readiness on real PostgreSQL: the connections a warm-up reports are the server's backends, the
 * readiness gate opens when a warm-up reaches its target, and a database that cannot be reached gives an
 * incomplete warm-up with its error instead of a hang.
 */
class PostgresWarmUpTest {

    private static FerryConfig.Builder config(String application) {
        return Postgres.config(application);
    }

    private static int backends(String application) throws Exception {
        try (Connection admin = Postgres.admin()) {
            return Postgres.backends(admin, application);
        }
    }

    @ParameterizedTest(name = "minimumIdle {0}")
    @CsvSource({"0", "1"})
    void aWarmUpOpensTheConnectionsAskedForAndOpensTheReadinessGate(int minimumIdle) throws Exception {
        String application = Postgres.uniqueApplicationName("warm");
        try (FerryDataSource ds = FerryDataSource.startingOnFirstUse(config(application).maximumPoolSize(6)
                .minimumIdle(minimumIdle).build())) {
            assertThat(ds.isReady()).as("not started").isFalse();
            WarmUp w = ds.warmUp(5, Duration.ofSeconds(20));
            assertThat(w.complete()).isTrue();
            assertThat(w.target()).isEqualTo(5);
            assertThat(w.open()).isEqualTo(5);
            assertThat((Throwable) w.lastError()).isNull();
            assertThat(w.took()).isPositive();
            assertThat(backends(application)).as("the server's backends").isEqualTo(5);
            assertThat(ds.isReady()).isTrue();
            try (Connection c = ds.getConnection()) {
                assertThat(c.isValid(1)).isTrue();
            }
            assertThat(backends(application)).as("a borrow after the warm-up opens none").isEqualTo(5);
        }
    }

    @ParameterizedTest(name = "minimumIdle {0}: {1} connections")
    @CsvSource({"0, 1", "1, 1", "3, 3"})
    void theDefaultWarmUpOpensMinimumIdleAndAtLeastOne(int minimumIdle, int expected) throws Exception {
        String application = Postgres.uniqueApplicationName("warm");
        try (FerryDataSource ds = new FerryDataSource(config(application).maximumPoolSize(4).minimumIdle(minimumIdle)
                .build())) {
            WarmUp w = ds.warmUp(Duration.ofSeconds(20));
            assertThat(w.target()).isEqualTo(expected);
            assertThat(w.complete()).isTrue();
            assertThat(ds.isReady()).isTrue();
        }
    }

    @Test
    void aPoolOfOneWarmsUpAndSuspensionClosesTheGateUntilResumed() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(config(Postgres.uniqueApplicationName("warm"))
                .maximumPoolSize(1).minimumIdle(1).allowPoolSuspension(true).build())) {
            assertThat(ds.warmUp(1, Duration.ofSeconds(20)).complete()).isTrue();
            ds.unwrap(FerryPool.class).suspend();
            assertThat(ds.isReady()).isFalse();
            ds.unwrap(FerryPool.class).resume();
            assertThat(ds.isReady()).isTrue();
            assertThatThrownBy(() -> ds.warmUp(2, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("warmUp: got 2 connections; allowed: 1 to maximumPoolSize (1)");
            assertThatThrownBy(() -> ds.warmUp(0, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("allowed: 1 to maximumPoolSize");
        }
    }

    @Test
    void anUnreachableDatabaseGivesAnIncompleteWarmUpWithItsErrorAndTheGateStaysShut() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder()
                .jdbcUrl("jdbc:postgresql://127.0.0.1:1/test?user=postgres&connectTimeout=1").poolName("cold")
                .maximumPoolSize(2).minimumIdle(0).initializationFailTimeout(Duration.ofMillis(-1)).build())) {
            WarmUp w = ds.warmUp(2, Duration.ofMillis(300));
            assertThat(w.complete()).isFalse();
            assertThat(w.open()).isZero();
            assertThat((Throwable) w.lastError()).isNotNull();
            assertThat(w.lastError().getSQLState()).startsWith("08");
            assertThat(ds.isReady()).isFalse();
        }
    }
}
