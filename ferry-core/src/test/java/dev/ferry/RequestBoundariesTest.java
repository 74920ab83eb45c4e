package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testkit.StubConnection;
import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * JDBC 4.3 request boundaries: on a driver that implements them (the stub driver's connection does, as SQL
 * Server's and Oracle's do), each loan is exactly one request, begun after the connection is chosen and ended
 * after the pool's own reset; a caller's own calls do not nest another request. pgjdbc keeps the no-op
 * defaults, so there the pool does not call them (shown against real PostgreSQL).
 */
class RequestBoundariesTest {

    private final StubDatabase db = StubDatabase.create();

    private FerryDataSource stubPool(int size, int minimumIdle, boolean autoCommit) {
        return new FerryDataSource(FerryConfig.builder().jdbcUrl(db.url())
                .driverClassName("dev.ferry.testkit.StubDriver").maximumPoolSize(size).minimumIdle(minimumIdle)
                .autoCommit(autoCommit).connectionTimeout(Duration.ofMillis(250)).build());
    }

    @ParameterizedTest(name = "pool of {0}, minimumIdle {1}, autoCommit {2}")
    @CsvSource({"1, 0, true", "1, 1, false", "4, 0, false", "4, 4, true"})
    void eachLoanIsOneRequest(int size, int minimumIdle, boolean autoCommit) throws Exception {
        try (FerryDataSource ds = stubPool(size, minimumIdle, autoCommit)) {
            StubConnection physical;
            try (Connection c = ds.getConnection()) {
                physical = c.unwrap(StubConnection.class);
                assertThat(physical.inRequest()).as("begun when lent").isTrue();
                c.beginRequest(); // the caller's own: no nested request
                c.endRequest();
                assertThat(physical.inRequest()).as("the caller cannot end the pool's request").isTrue();
                c.setAutoCommit(!autoCommit); // reset by the pool before the request ends
            }
            assertThat(physical.inRequest()).as("ended when returned").isFalse();
            int loans = 1;
            for (int i = 0; i < 20; i++) {
                try (Connection c = ds.getConnection()) {
                    if (c.unwrap(StubConnection.class) == physical) {
                        loans++;
                    }
                }
            }
            assertThat(physical.requestsBegun).isEqualTo(loans);
            assertThat(physical.requestsEnded).isEqualTo(loans);
            assertThat(physical.requestBoundaryMisuse).isZero();
        }
    }

    @Test
    void aConnectionEvictedWhileLentIsClosedWithoutEndingItsRequest() throws Exception {
        try (FerryDataSource ds = stubPool(1, 0, true)) {
            StubConnection physical;
            try (Connection c = ds.getConnection()) {
                physical = c.unwrap(StubConnection.class);
                ds.unwrap(FerryPool.class).evictConnection(c);
            }
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(physical::isClosed); // a closer
            assertThat(physical.requestsEnded).isZero();
            assertThat(physical.requestBoundaryMisuse).isZero();
        }
    }

    @Test
    void pgjdbcKeepsTheDefaultsSoThePoolLeavesThemAlone() throws Exception {
        try (Connection raw = DriverManager.getConnection(Postgres.url())) {
            assertThat(raw.getClass().getMethod("beginRequest").getDeclaringClass()).isEqualTo(Connection.class);
        }
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(Postgres.url())
                .maximumPoolSize(1).build())) {
            for (int i = 0; i < 3; i++) {
                try (Connection c = ds.getConnection()) {
                    c.beginRequest();
                    assertThat(c.isValid(1)).isTrue();
                    c.endRequest();
                }
            }
        }
    }
}
