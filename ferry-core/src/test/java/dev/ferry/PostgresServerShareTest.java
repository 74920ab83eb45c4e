package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ferry.capacity.ServerShare;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The server-aware cap on a real PostgreSQL: other instances of the same application are simulated by plain
 * sessions with the same application_name; the sizing period is driven by a manual scheduler.
 */
class PostgresServerShareTest {

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler scheduler = new ManualScheduler(ticker);
    private final List<Connection> sessions = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        for (Connection c : sessions) {
            c.close();
        }
    }

    private void openPeerSessions(String applicationName, int n) throws Exception {
        Properties props = new Properties();
        props.setProperty("ApplicationName", applicationName);
        for (int i = 0; i < n; i++) {
            sessions.add(DriverManager.getConnection(Postgres.url(), props));
        }
    }

    /**
     * Advances sizing periods until {@code done}, looking before each advance: a period starts a read only when
     * the last one has finished, so none is left running (holding the connection) when this returns.
     */
    private void awaitRead(FerryPool pool, java.util.concurrent.Callable<Boolean> done) {
        await().until(() -> {
            if (done.call()) {
                return true;
            }
            scheduler.advance(Duration.ofSeconds(1));
            return false;
        });
    }

    private static java.util.Set<Integer> backendPids(Connection admin, String applicationName) throws Exception {
        java.util.Set<Integer> pids = new java.util.HashSet<>();
        try (Statement s = admin.createStatement();
             ResultSet rs = s.executeQuery("SELECT pid FROM pg_stat_activity WHERE application_name = '"
                     + applicationName + "'")) {
            while (rs.next()) {
                pids.add(rs.getInt(1));
            }
        }
        return pids;
    }

    private static int setting(Connection admin, String name) throws Exception {
        try (Statement s = admin.createStatement(); ResultSet rs = s.executeQuery("SHOW " + name)) {
            rs.next();
            return Integer.parseInt(rs.getString(1));
        }
    }

    @Test
    void theCapIsAFairShareOfWhatTheServerAllowsCountingPeerInstancesByApplicationName() throws Exception {
        String app = Postgres.uniqueApplicationName("ferry-share");
        Connection admin = Postgres.admin();
        sessions.add(admin);
        int limit = setting(admin, "max_connections") - setting(admin, "superuser_reserved_connections");
        openPeerSessions(app, 30);
        int max = 60;
        FerryDataSource ds = new FerryDataSource(Postgres.config(app).maximumPoolSize(max).minimumIdle(0)
                .connectionTimeout(Duration.ofSeconds(5)).serverAwareCap(true).ticker(ticker).scheduler(scheduler)
                .build());
        closeables.add(ds);
        FerryPool pool = ds.unwrap(FerryPool.class);
        await().until(() -> pool.idleConnections() == 1); // the first connection; minimumIdle 0 opens no other
        // Each period starts a read in the background.
        await().until(() -> {
            scheduler.advance(Duration.ofSeconds(1));
            return pool.serverShare() != null && pool.serverShare().peers() == 30;
        });

        ServerShare share = pool.serverShare();
        assertThat(share.limit()).isEqualTo(limit);
        assertThat(share.peers()).as("the 30 sessions, not the pool's own").isEqualTo(30);
        assertThat(share.instances()).isEqualTo(2); // 30 sessions fit one peer configured like us (60)
        assertThat(share.foreign()).isGreaterThanOrEqualTo(1); // the admin session at least
        int cap = Math.min(max, (limit - share.foreign()) / 2);
        assertThat(share.cap()).isEqualTo(cap).isLessThan(max);
        assertThat(pool.connectionCap()).isEqualTo(cap);

        // Demand beyond the share: the pool stops at the cap and the next caller times out, with the cap in view.
        List<Connection> lent = new ArrayList<>();
        for (int i = 0; i < cap; i++) {
            lent.add(ds.getConnection());
        }
        assertThatThrownBy(() -> pool.getConnection(Duration.ofMillis(300)))
                .isInstanceOf(SQLTransientConnectionException.class).hasMessageContaining("timed out");
        assertThat(Postgres.backends(admin, app) - 30).isEqualTo(cap);
        for (Connection c : lent) {
            c.close();
        }

        // The peers leave: at the next period the share is the whole of what other applications leave free.
        for (Connection c : sessions.subList(1, sessions.size())) {
            c.close();
        }
        sessions.subList(1, sessions.size()).clear();
        await().until(() -> Postgres.backends(admin, app) == pool.totalConnections()); // backends exit after close
        await().until(() -> {
            scheduler.advance(Duration.ofSeconds(1));
            return pool.serverShare().peers() == 0;
        });
        ServerShare alone = pool.serverShare();
        assertThat(alone.peers()).isZero();
        assertThat(alone.instances()).isEqualTo(1);
        assertThat(pool.connectionCap()).isEqualTo(Math.min(max, limit - alone.foreign()));
    }

    /** The share is read on an idle pooled connection: with autocommit off, its transaction must not stay open. */
    @ParameterizedTest(name = "minimumIdle {0}")
    @ValueSource(ints = {0, 1})
    void withAutocommitOffTheShareIsReadWithoutLeavingATransactionOpenOrLosingTheConnection(int minimumIdle)
            throws Exception {
        String app = Postgres.uniqueApplicationName("ferry-share-tx");
        Connection admin = Postgres.admin();
        sessions.add(admin);
        openPeerSessions(app, 2);
        FerryDataSource ds = new FerryDataSource(Postgres.config(app).maximumPoolSize(4).minimumIdle(minimumIdle)
                .autoCommit(false).connectionTimeout(Duration.ofSeconds(5)).serverAwareCap(true).ticker(ticker)
                .scheduler(scheduler).build());
        closeables.add(ds);
        FerryPool pool = ds.unwrap(FerryPool.class);
        await().until(() -> pool.idleConnections() == 1);
        awaitRead(pool, () -> pool.serverShare() != null);
        java.util.Set<Integer> backends = backendPids(admin, app); // the 2 peers and the pool's one connection
        assertThat(backends).hasSize(3);
        for (int read = 1; read <= 3; read++) { // each period reads again (a new ServerShare), on the idle connection
            ServerShare previous = pool.serverShare();
            awaitRead(pool, () -> pool.serverShare() != previous);
        }
        assertThat(pool.serverShare().peers()).isEqualTo(2);
        assertThat(backendPids(admin, app)).as("the connection the share was read on was kept").isEqualTo(backends);
        assertThat(pool.idleConnections()).isEqualTo(1);
        try (Statement st = admin.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app
                     + "' AND state LIKE 'idle in transaction%'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("sessions left idle in a transaction").isZero();
        }
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            assertThat(c.getAutoCommit()).isFalse(); // the pool's setting, untouched by the share's read
            st.execute("SELECT 1");
            c.rollback();
        }
    }

    @Test
    void onADatabaseOtherThanPostgresTheCapTurnsItselfOff() throws Exception {
        FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl("jdbc:h2:mem:share;DB_CLOSE_DELAY=-1")
                .maximumPoolSize(7).serverAwareCap(true).ticker(ticker).scheduler(scheduler).build());
        closeables.add(ds);
        FerryPool pool = ds.unwrap(FerryPool.class);
        scheduler.advance(Duration.ofSeconds(1));
        await().during(Duration.ofMillis(300)).until(() -> pool.serverShare() == null);
        assertThat(pool.connectionCap()).isEqualTo(7);
        scheduler.advance(Duration.ofSeconds(1)); // the period after the cap turned off ends the chain
        assertThat(scheduler.pending()).as("no sizing period left scheduled (housekeeping only)").isLessThanOrEqualTo(1);
    }
}
