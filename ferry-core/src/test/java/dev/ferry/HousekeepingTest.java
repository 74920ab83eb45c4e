package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ferry.pool.ConnectionPool;
import dev.ferry.testkit.StubConnection;
import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Housekeeping, retirement and validation, driven by a fake ticker and a manual scheduler: the test moves time,
 * nothing sleeps. Connection creation and closing still happen on the pool's own threads, so the test waits
 * for their effect (awaitility) rather than for time.
 */
class HousekeepingTest {

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler scheduler = new ManualScheduler(ticker);
    private final StubDatabase db = StubDatabase.create();
    private FerryDataSource ds;

    private FerryConfig.Builder config() {
        return FerryConfig.builder().jdbcUrl(db.url()).driverClassName("dev.ferry.testkit.StubDriver")
                .ticker(ticker).scheduler(scheduler).housekeepingPeriod(Duration.ofSeconds(30))
                .connectionTimeout(Duration.ofSeconds(5)).validationTimeout(Duration.ofSeconds(1));
    }

    private ConnectionPool start(FerryConfig config) throws SQLException {
        ds = new FerryDataSource(config);
        ds.start();
        return ds.unwrap(ConnectionPool.class);
    }

    @AfterEach
    void close() {
        if (ds != null) {
            ds.close();
        }
    }

    private static StubConnection physical(Connection c) throws SQLException {
        return c.unwrap(StubConnection.class);
    }

    private List<Connection> borrow(int n) throws SQLException {
        List<Connection> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(ds.getConnection());
        }
        return out;
    }

    private static void closeAll(List<Connection> connections) throws SQLException {
        for (Connection c : connections) {
            c.close();
        }
    }

    @Test
    void fillsToMinimumIdleInTheBackground() throws Exception {
        ConnectionPool pool = start(config().maximumPoolSize(6).minimumIdle(3).build());
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.idleConnections() == 3);
        assertThat(db.open.get()).isEqualTo(3);
    }

    @Test
    void retiresIdleConnectionsAboveMinimumAfterIdleTimeout() throws Exception {
        ConnectionPool pool = start(config().maximumPoolSize(4).minimumIdle(1).idleTimeout(Duration.ofMinutes(1))
                .build());
        closeAll(borrow(4));
        assertThat(pool.totalConnections()).isEqualTo(4);

        scheduler.advance(Duration.ofSeconds(30));
        assertThat(pool.totalConnections()).as("not idle long enough yet").isEqualTo(4);

        scheduler.advance(Duration.ofSeconds(30));
        assertThat(pool.totalConnections()).as("down to minimumIdle").isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> db.open.get() == 1);
    }

    @Test
    void retiresAtMaxLifetimeButNeverTakesAConnectionFromItsBorrower() throws Exception {
        ConnectionPool pool = start(config().maximumPoolSize(3).minimumIdle(3).maxLifetime(Duration.ofMinutes(10))
                .idleTimeout(Duration.ofMinutes(5)).keepaliveTime(Duration.ZERO).build());
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.idleConnections() == 3);
        Connection held = ds.getConnection();
        StubConnection heldPhysical = physical(held);
        long openedBefore = db.opened.get();

        scheduler.advance(Duration.ofMinutes(11));
        // The two idle ones were retired and replaced; the lent one is untouched and still works.
        await().atMost(Duration.ofSeconds(5)).until(() -> db.opened.get() == openedBefore + 2);
        assertThat(heldPhysical.isClosed()).isFalse();
        try (Statement s = held.createStatement()) {
            assertThat(s.execute("SELECT 1")).isFalse();
        }
        held.close();
        await("retired on return").atMost(Duration.ofSeconds(5)).until(heldPhysical::isClosed);
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.idleConnections() == 3 && db.open.get() == 3);
    }

    @Test
    void keepaliveProbesIdleConnectionsAndRetiresDeadOnes() throws Exception {
        ConnectionPool pool = start(config().maximumPoolSize(2).minimumIdle(2).keepaliveTime(Duration.ofMinutes(1))
                .build());
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.idleConnections() == 2);
        List<Connection> both = borrow(2);
        StubConnection dead = physical(both.get(0));
        StubConnection alive = physical(both.get(1));
        closeAll(both);
        dead.breakConnection();

        scheduler.advance(Duration.ofSeconds(90));
        await("failed its keepalive probe is closed").atMost(Duration.ofSeconds(5)).until(dead::isClosed);
        assertThat(alive.isClosed()).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.idleConnections() == 2);
    }

    @Test
    void validatesAConnectionThatSatIdleBeforeLendingIt() throws Exception {
        start(config().maximumPoolSize(1).build());
        StubConnection first;
        try (Connection c = ds.getConnection()) {
            first = physical(c);
        }
        first.breakConnection();
        ticker.advance(Duration.ofSeconds(1)); // idle past the 500 ms bypass window
        try (Connection c = ds.getConnection()) {
            assertThat(physical(c)).as("the dead one was replaced").isNotSameAs(first);
            assertThat(c.isValid(1)).isTrue();
        }
        await().atMost(Duration.ofSeconds(5)).until(first::isClosed);
    }

    @Test
    void recentlyUsedConnectionIsLentWithoutValidation() throws Exception {
        start(config().maximumPoolSize(1).build());
        StubConnection first;
        try (Connection c = ds.getConnection()) {
            first = physical(c);
        }
        first.breakConnection(); // unnoticed: within the bypass window nothing checks
        try (Connection c = ds.getConnection()) {
            assertThat(physical(c)).isSameAs(first);
        }
    }

    @Test
    void fatalErrorSeenThroughAProxyEvictsTheConnection() throws Exception {
        ConnectionPool pool = start(config().maximumPoolSize(1).build());
        StubConnection first;
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            first = physical(c);
            first.breakConnection();
            assertThatThrownBy(() -> s.execute("SELECT 1")).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08006"));
        }
        await("evicted on return and closed").atMost(Duration.ofSeconds(5)).until(first::isClosed);
        try (Connection c = ds.getConnection()) {
            assertThat(physical(c)).isNotSameAs(first);
        }
        assertThat(pool.totalConnections()).isEqualTo(1);
    }

    @Test
    void reportsALeakAfterTheThresholdAndNotBefore() throws Exception {
        ConnectionPool pool = start(config().maximumPoolSize(2).leakDetectionThreshold(Duration.ofSeconds(2))
                .build());
        try (Connection quick = ds.getConnection()) {
            assertThat(quick.isValid(1)).isTrue();
        }
        scheduler.advance(Duration.ofSeconds(3));
        assertThat(pool.leaksSuspected()).as("returned in time").isZero();

        Connection leaked = ds.getConnection();
        scheduler.advance(Duration.ofSeconds(1));
        assertThat(pool.leaksSuspected()).isZero();
        scheduler.advance(Duration.ofSeconds(2));
        assertThat(pool.leaksSuspected()).isEqualTo(1);
        leaked.close();
    }

    @Test
    void backsOffWhileTheDatabaseIsDownAndRecoversWhenItReturns() throws Exception {
        db.down = true;
        ConnectionPool pool = start(config().maximumPoolSize(2).initializationFailTimeout(Duration.ofMillis(-1))
                .connectionTimeout(Duration.ofMillis(300)).validationTimeout(Duration.ofMillis(300)).build());
        assertThatThrownBy(ds::getConnection)
                .isInstanceOf(SQLTransientConnectionException.class)
                .hasMessageContaining("last connection error: stub database is down")
                .hasCauseInstanceOf(SQLException.class);
        db.down = false;
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.idleConnections() == 2);
        try (Connection c = ds.getConnection()) {
            assertThat(c.isValid(1)).isTrue();
        }
    }

    @Test
    void shrinksAndGrowsAtRunTime() throws Exception {
        ConnectionPool pool = start(config().maximumPoolSize(4).minimumIdle(2).build());
        closeAll(borrow(4));
        pool.setMaximumPoolSize(2);
        assertThat(pool.totalConnections()).isEqualTo(2);
        await().atMost(Duration.ofSeconds(5)).until(() -> db.open.get() == 2);
        List<Connection> held = borrow(2);
        pool.setMaximumPoolSize(3);
        try (Connection third = ds.getConnection()) {
            assertThat(pool.totalConnections()).isEqualTo(3);
        }
        closeAll(held);
        assertThatThrownBy(() -> pool.setMaximumPoolSize(1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maximumPoolSize: got 1; allowed: at least 1 and at least the minimumIdle set (2)");
    }

    @Test
    void aDefaultMinimumIdleShrinksWithTheMaximum() throws Exception {
        // minimumIdle left at its default is maximumPoolSize (a fixed pool): shrinking the pool shrinks it too,
        // as HikariCP's MXBean allows.
        ConnectionPool pool = start(config().maximumPoolSize(4).build());
        pool.setMaximumPoolSize(2);
        assertThat(pool.minimumIdle()).isEqualTo(2);
        await().atMost(Duration.ofSeconds(5)).until(() -> db.open.get() == 2);
        pool.setMinimumIdle(1); // from now on the user's value: it no longer follows
        assertThatThrownBy(() -> pool.setMaximumPoolSize(0)).isInstanceOf(IllegalArgumentException.class);
        pool.setMaximumPoolSize(1);
        assertThatThrownBy(() -> pool.setMinimumIdle(2)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void softEvictionReplacesIdleNowAndLentOnReturn() throws Exception {
        ConnectionPool pool = start(config().maximumPoolSize(2).minimumIdle(2).build());
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.idleConnections() == 2);
        Connection held = ds.getConnection();
        StubConnection heldPhysical = physical(held);
        pool.softEvictConnections();
        assertThat(heldPhysical.isClosed()).isFalse();
        held.close();
        await().atMost(Duration.ofSeconds(5)).until(heldPhysical::isClosed);
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.idleConnections() == 2 && db.open.get() == 2);
    }

    @Test
    void housekeepingReArmsItself() throws Exception {
        start(config().maximumPoolSize(1).build());
        assertThat(scheduler.pending()).isEqualTo(1);
        assertThat(scheduler.advance(Duration.ofSeconds(30))).isEqualTo(1);
        assertThat(scheduler.pending()).isEqualTo(1);
        ds.close();
        assertThat(scheduler.advance(Duration.ofSeconds(30))).as("stops when closed").isZero();
    }
}
