package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Connection interceptors on real PostgreSQL: what onCreate sets is the session every loan sees (and is restored
 * to), onAcquire and onReturn run once per loan on the borrower's connection, and what an interceptor throws never
 * leaves a half-configured connection in the pool: a failed onCreate's connection is closed, a failed onAcquire's
 * or onReturn's is evicted.
 */
class PostgresInterceptorTest {

    /** Records every call; fails the calls it is told to fail. */
    static final class Recording implements ConnectionInterceptor {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final AtomicInteger failCreates = new AtomicInteger();
        final AtomicInteger failAcquires = new AtomicInteger();
        final AtomicInteger failReturns = new AtomicInteger();
        final List<Integer> destroyedBackends = new CopyOnWriteArrayList<>();
        volatile Duration lastWait;
        volatile Duration lastHeld;

        @Override
        public void onCreate(Connection physical) throws SQLException {
            calls.add("create");
            try (Statement s = physical.createStatement()) {
                s.execute("SET search_path TO ferry_tenant, public");
                s.execute("SET statement_timeout = '7s'");
            }
            if (failCreates.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new SQLException("tenant setup failed on purpose", "42501");
            }
        }

        @Override
        public void onAcquire(Connection connection, Duration waited) throws SQLException {
            calls.add("acquire");
            lastWait = waited;
            if (failAcquires.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new IllegalStateException("no tenant in context");
            }
            try (Statement s = connection.createStatement()) {
                s.execute("SET application_name = 'tenant-42'");
            }
        }

        @Override
        public void onReturn(Connection connection, Duration held) throws SQLException {
            calls.add("return");
            lastHeld = held;
            if (failReturns.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new SQLException("could not clear the tenant", "55000");
            }
            try (Statement s = connection.createStatement()) {
                s.execute("RESET application_name");
            }
        }

        @Override
        public void onDestroy(Connection physical, String reason) {
            calls.add("destroy: " + reason);
            try {
                destroyedBackends.add(backend(physical));
            } catch (SQLException e) {
                destroyedBackends.add(-1);
            }
        }
    }

    private static FerryConfig.Builder config(Recording r, int size, int minimumIdle, boolean autoCommit) {
        return FerryConfig.builder().jdbcUrl(Postgres.url()).poolName("intercepted").maximumPoolSize(size)
                .minimumIdle(minimumIdle).autoCommit(autoCommit).connectionTimeout(Duration.ofSeconds(5))
                .interceptor(r);
    }

    private static String show(Connection c, String setting) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static int backend(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @ParameterizedTest(name = "pool of {0}, minimumIdle {1}, autoCommit {2}")
    @CsvSource({"1, 0, true", "1, 1, false", "3, 0, false", "3, 3, true"})
    void eachLoanSeesTheSessionOnCreateSetAndRunsAcquireAndReturnOnce(int size, int minimumIdle, boolean autoCommit)
            throws Exception {
        Recording r = new Recording();
        try (FerryDataSource ds = new FerryDataSource(config(r, size, minimumIdle, autoCommit).build())) {
            for (int i = 0; i < 5; i++) {
                try (Connection c = ds.getConnection()) {
                    assertThat(show(c, "search_path")).isEqualTo("ferry_tenant, public");
                    assertThat(show(c, "statement_timeout")).isEqualTo("7s");
                    assertThat(show(c, "application_name")).isEqualTo("tenant-42");
                    if (!c.getAutoCommit()) {
                        c.rollback(); // pgjdbc refuses to change read-only inside a transaction
                    }
                    c.setReadOnly(true); // the borrower's change: reset to what the connection had after onCreate
                }
            }
            try (Connection c = ds.getConnection()) {
                assertThat(c.isReadOnly()).isFalse();
                assertThat(show(c, "transaction_read_only")).isEqualTo("off");
            }
            assertThat(r.calls.stream().filter("acquire"::equals).count()).isEqualTo(6);
            assertThat(r.calls.stream().filter("return"::equals).count()).isEqualTo(6);
            assertThat(r.lastWait.isNegative()).isFalse();
            assertThat(r.lastHeld.isNegative()).isFalse();
            assertThat(r.calls).first().isEqualTo("create");
        }
        assertThat(r.calls).anySatisfy(call -> assertThat(call).startsWith("destroy: "));
    }

    @Test
    void aFailedOnCreateClosesThatConnectionAndThePoolRetries() throws Exception {
        Recording r = new Recording();
        r.failCreates.set(1);
        try (FerryDataSource ds = new FerryDataSource(config(r, 1, 0, true)
                .initializationFailTimeout(Duration.ofMillis(-1)).build())) {
            try (Connection c = ds.getConnection()) { // the first attempt fails, the retry serves the borrower
                assertThat(show(c, "search_path")).isEqualTo("ferry_tenant, public");
            }
            assertThat(r.calls.stream().filter("create"::equals).count()).isEqualTo(2);
            assertThat(ds.unwrap(FerryPool.class).totalConnections()).isEqualTo(1);
        }
    }

    @Test
    void aFailedOnAcquireEvictsTheConnectionAndTellsTheBorrower() throws Exception {
        Recording r = new Recording();
        try (FerryDataSource ds = new FerryDataSource(config(r, 1, 1, true).build())) {
            int first;
            try (Connection c = ds.getConnection()) {
                first = backend(c);
            }
            r.failAcquires.set(1);
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class)
                    .hasMessageContaining("interceptor " + Recording.class.getName() + " failed in onAcquire")
                    .hasMessageContaining("evicted").hasRootCauseMessage("no tenant in context");
            try (Connection c = ds.getConnection()) {
                assertThat(backend(c)).as("a new connection: the failed one was not lent again").isNotEqualTo(first);
            }
            org.awaitility.Awaitility.await("the evicted backend is closed").atMost(Duration.ofSeconds(10))
                    .until(() -> !Postgres.backendAlive(first)); // closes run on the pool's closer thread
            assertThat(r.calls.stream().filter("return"::equals).count()).as("no onReturn for the failed loan")
                    .isEqualTo(2);
        }
    }

    @Test
    void aFailedOnReturnEvictsTheConnectionAndTheCallersCloseSucceeds() throws Exception {
        Recording r = new Recording();
        try (FerryDataSource ds = new FerryDataSource(config(r, 1, 1, false).build())) {
            int first;
            Connection c = ds.getConnection();
            first = backend(c);
            r.failReturns.set(1);
            c.close(); // no exception for the caller
            try (Connection next = ds.getConnection()) {
                assertThat(backend(next)).isNotEqualTo(first);
            }
            org.awaitility.Awaitility.await("onDestroy for the evicted connection").atMost(Duration.ofSeconds(10))
                    .until(() -> r.destroyedBackends.contains(first));
            assertThat(r.calls).anySatisfy(call -> assertThat(call).startsWith("destroy: interceptor ")
                    .contains("failed in onReturn"));
        }
    }
}
