package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ferry.pool.UserPools;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code getConnection(username, password)} served by a pool per user within the data source's budget, against
 * PostgreSQL roles whose passwords the server checks (members of {@code ferry_pw}, see {@code .ci/pg-passwords}):
 * each caller is logged in as the user it named, a wrong password is refused at once with the server's error, the
 * data source never holds more than maximumPoolSize connections across its users, and a user whose callers wait
 * gets a place freed by another's idle connection.
 */
class PostgresUserPoolsTest {

    private static final String ALICE = "ferry_pw_alice";
    private static final String BOB = "ferry_pw_bob";
    private static final String OWN_PASSWORD = "unchecked-on-trust";
    private final String alicePassword = "alice-" + System.nanoTime();
    private final String bobPassword = "bob-" + System.nanoTime();
    private final String app = Postgres.uniqueApplicationName("userpools");

    @BeforeEach
    void createRoles() throws SQLException {
        Postgres.createPasswordRole(ALICE, alicePassword);
        Postgres.createPasswordRole(BOB, bobPassword);
        Postgres.execute("GRANT CREATE ON SCHEMA public TO ferry_pw");
    }

    @AfterEach
    void dropRoles() throws SQLException {
        Postgres.execute("DROP TABLE IF EXISTS ferry_userpools_writes");
        Postgres.dropRole(ALICE);
        Postgres.dropRole(BOB);
    }

    /**
     * The data source's own user is postgres (trusted on loopback, so the password is never asked for); the URL
     * names no user, as required.
     */
    private FerryConfig.Builder config() {
        return FerryConfig.builder().jdbcUrl(Postgres.urlWithoutUser()).username("postgres").password(OWN_PASSWORD)
                .dataSourceProperty("ApplicationName", app).poolName(app).connectionTimeout(Duration.ofSeconds(5));
    }

    private int serverSessions() throws SQLException {
        try (Connection admin = Postgres.admin()) {
            return Postgres.backends(admin, app);
        }
    }

    @Test
    void refusedUnlessPerUserPoolSizeIsSet() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(2).build())) {
            assertThatThrownBy(() -> ds.getConnection(ALICE, alicePassword))
                    .isInstanceOf(SQLFeatureNotSupportedException.class).hasMessageContaining("perUserPoolSize");
        }
        try (FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(2).perUserPoolSize(1).build())) {
            assertThatThrownBy(() -> ds.reads().getConnection(ALICE, alicePassword))
                    .isInstanceOf(SQLFeatureNotSupportedException.class).hasMessageContaining("FerryDataSource itself");
        }
    }

    @ParameterizedTest(name = "minimumIdle {0}")
    @ValueSource(ints = {0, 1, 3})
    void eachCallerIsLoggedInAsTheUserItNamedAndTheOwnUserIsServedByTheMainPool(int minimumIdle) throws Exception {
        try (FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(3).minimumIdle(minimumIdle)
                .perUserPoolSize(2).build())) {
            try (Connection a = ds.getConnection(ALICE, alicePassword);
                 Connection b = ds.getConnection(BOB, bobPassword);
                 Connection own = ds.getConnection("postgres", OWN_PASSWORD)) {
                assertThat(Postgres.currentUser(a)).isEqualTo(ALICE);
                assertThat(Postgres.currentUser(b)).isEqualTo(BOB);
                assertThat(Postgres.currentUser(own)).isEqualTo("postgres");
            }
            assertThat(ds.userPools()).hasSize(2);
            assertThat(ds.userPools()).allSatisfy(p -> assertThat(p.poolName()).startsWith(app + "-user-")
                    .doesNotContain(alicePassword).doesNotContain(bobPassword));
            assertThat(ds.userPools()).extracting(UserPool::user).containsExactlyInAnyOrder(ALICE, BOB);
            assertThat(ds.userPools().toString()).doesNotContain(alicePassword).doesNotContain(bobPassword);
            try (Connection again = ds.getConnection(ALICE, alicePassword)) {
                assertThat(Postgres.currentUser(again)).isEqualTo(ALICE);
            }
            assertThat(ds.userPools()).as("alice's pool is reused").hasSize(2);
            try (Connection noPassword = ds.getConnection("postgres", null)) {
                assertThat(Postgres.currentUser(noPassword)).isEqualTo("postgres");
            }
            assertThat(ds.userPools()).as("the own user without its password is not the main pool's").hasSize(3);
        }
    }

    @Test
    void aWrongPasswordIsRefusedAtOnceWithTheServersErrorAndNeverGetsAnotherCallersConnection() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(3).perUserPoolSize(2)
                .connectionTimeout(Duration.ofSeconds(30)).build())) {
            try (Connection a = ds.getConnection(ALICE, alicePassword)) {
                assertThat(Postgres.currentUser(a)).isEqualTo(ALICE);
            }
            // alice's pool now holds an idle connection: a caller with a wrong password must not be lent it
            assertThatThrownBy(() -> ds.getConnection(ALICE, "not-" + alicePassword))
                    .isInstanceOf(SQLException.class)
                    .isNotInstanceOf(SQLTransientConnectionException.class) // refused, not timed out after 30 s
                    .hasMessageContaining("refused the login of user '" + ALICE + "'")
                    .hasMessageNotContaining(alicePassword)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
            assertThat(ds.userPools()).as("the refused pool is closed").hasSize(1);
            try (Connection a = ds.getConnection(ALICE, alicePassword)) {
                assertThat(Postgres.currentUser(a)).isEqualTo(ALICE);
            }
            assertThatThrownBy(() -> ds.getConnection(ALICE, null)).isInstanceOf(SQLException.class)
                    .isNotInstanceOf(SQLTransientConnectionException.class)
                    .hasMessageContaining("refused the login of user '" + ALICE + "'");
            assertThatThrownBy(() -> ds.getConnection(null, alicePassword)).isInstanceOf(SQLException.class)
                    .hasMessageContaining("null username");
            assertThat(ds.userPools()).as("only alice's good pool is left").hasSize(1);
        }
    }

    @ParameterizedTest(name = "maximumPoolSize {0}, minimumIdle {1}")
    @CsvSource({"1, 0", "1, 1", "2, 2"})
    void aUserWhoseCallerWaitsGetsThePlaceOfAnIdleConnectionElsewhere(int max, int minimumIdle) throws Exception {
        try (FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(max).minimumIdle(minimumIdle)
                .perUserPoolSize(max).connectionTimeout(Duration.ofSeconds(3)).build())) {
            ds.warmUp(max, Duration.ofSeconds(5)); // the main pool holds the whole budget, idle
            FerryPool main = ds.unwrap(FerryPool.class);
            assertThat(main.totalConnections()).isEqualTo(max);
            try (Connection a = ds.getConnection(ALICE, alicePassword)) {
                assertThat(Postgres.currentUser(a)).isEqualTo(ALICE);
                assertThat(main.totalConnections()).as("one of main's idle connections was closed for alice")
                        .isEqualTo(max - 1);
                if (max == 1) {
                    // Now the main pool's caller waits for alice's connection: when it comes back to a pool with
                    // nobody waiting, it is closed and the main pool opens one in its place.
                    ExecutorService caller = Executors.newSingleThreadExecutor();
                    try {
                        Future<String> mainCaller = caller.submit(() -> {
                            try (Connection c = ds.getConnection()) {
                                return Postgres.currentUser(c);
                            }
                        });
                        await().atMost(Duration.ofSeconds(2)).until(() -> main.waitingThreads() == 1);
                        a.close();
                        assertThat(mainCaller.get(5, TimeUnit.SECONDS)).isEqualTo("postgres");
                    } finally {
                        caller.shutdownNow();
                    }
                }
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> serverSessions() <= max);
        }
    }

    @ParameterizedTest(name = "maximumPoolSize {0}, perUserPoolSize {1}, minimumIdle {2}")
    @CsvSource({"1, 1, 0", "3, 2, 1", "4, 2, 4"})
    void manyUsersUnderLoadNeverTakeMoreThanTheBudgetAndAreAllServed(int max, int perUser, int minimumIdle)
            throws Exception {
        try (FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(max).minimumIdle(minimumIdle)
                .perUserPoolSize(perUser).connectionTimeout(Duration.ofSeconds(20)).build())) {
            ds.start();
            int threads = 9;
            int rounds = 15;
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger mostSessions = new AtomicInteger();
            AtomicInteger mostCounted = new AtomicInteger();
            Map<String, AtomicInteger> lentNow = new ConcurrentHashMap<>();
            AtomicInteger mostLentPerUser = new AtomicInteger();
            UserPools probe = ds.userPoolsEngine();
            Thread watcher = new Thread(() -> {
                try (Connection admin = Postgres.admin()) {
                    while (running.get()) {
                        mostSessions.accumulateAndGet(Postgres.backends(admin, app), Math::max);
                        mostCounted.accumulateAndGet(probe.budgetUsed(), Math::max);
                    }
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            watcher.start();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<Integer>> done = new ArrayList<>();
            String[][] users = {{ALICE, alicePassword}, {BOB, bobPassword}, {"postgres", OWN_PASSWORD}};
            CountDownLatch start = new CountDownLatch(1);
            for (int t = 0; t < threads; t++) {
                String[] user = users[t % users.length];
                done.add(pool.submit(() -> {
                    start.await();
                    int served = 0;
                    for (int i = 0; i < rounds; i++) {
                        try (Connection c = ds.getConnection(user[0], user[1])) {
                            AtomicInteger lent = lentNow.computeIfAbsent(user[0], k -> new AtomicInteger());
                            mostLentPerUser.accumulateAndGet(lent.incrementAndGet(), Math::max);
                            assertThat(Postgres.currentUser(c)).isEqualTo(user[0]);
                            lent.decrementAndGet();
                            served++;
                        }
                    }
                    return served;
                }));
            }
            start.countDown();
            for (Future<Integer> f : done) {
                assertThat(f.get(120, TimeUnit.SECONDS)).isEqualTo(rounds);
            }
            running.set(false);
            watcher.join();
            pool.shutdown();
            assertThat(mostCounted.get()).as("connections counted across users").isBetween(1, max);
            assertThat(mostSessions.get()).as("sessions the server saw").isLessThanOrEqualTo(max);
            assertThat(mostLentPerUser.get()).as("connections lent to one user at once").isLessThanOrEqualTo(
                    Math.max(perUser, max));
            for (UserPool user : ds.userPools()) {
                assertThat(user.totalConnections()).isLessThanOrEqualTo(perUser);
            }
        }
    }

    @Test
    void beyondMaxUserPoolsTheLeastRecentlyUsedIdlePoolMakesWayAndBusyOnesRefuseAtOnce() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(2).perUserPoolSize(1).maxUserPools(1)
                .build())) {
            try (Connection a = ds.getConnection(ALICE, alicePassword)) {
                assertThatThrownBy(() -> ds.getConnection(BOB, bobPassword))
                        .isInstanceOf(SQLTransientConnectionException.class).hasMessageContaining("maxUserPools (1)")
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"));
                assertThat(Postgres.currentUser(a)).isEqualTo(ALICE);
            }
            try (Connection b = ds.getConnection(BOB, bobPassword)) {
                assertThat(Postgres.currentUser(b)).isEqualTo(BOB);
            }
            assertThat(ds.userPools()).hasSize(1);
            assertThat(ds.userPools().get(0).totalConnections()).isLessThanOrEqualTo(1);
        }
    }

    @Test
    void withAutocommitOffAUsersUncommittedWorkIsRolledBackOnReturn() throws Exception {
        Postgres.execute("DROP TABLE IF EXISTS ferry_userpools_writes");
        Postgres.execute("CREATE TABLE ferry_userpools_writes (id int)");
        Postgres.execute("GRANT INSERT, SELECT ON ferry_userpools_writes TO ferry_pw");
        try (FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(1).perUserPoolSize(1).autoCommit(false)
                .build())) {
            try (Connection a = ds.getConnection(ALICE, alicePassword); Statement s = a.createStatement()) {
                assertThat(a.getAutoCommit()).isFalse();
                s.executeUpdate("INSERT INTO ferry_userpools_writes VALUES (1)");
            }
            try (Connection a = ds.getConnection(ALICE, alicePassword); Statement s = a.createStatement()) {
                s.executeUpdate("INSERT INTO ferry_userpools_writes VALUES (2)");
                a.commit();
            }
        }
        try (Connection admin = Postgres.admin(); Statement s = admin.createStatement();
             ResultSet rs = s.executeQuery("SELECT array_agg(id ORDER BY id)::text FROM ferry_userpools_writes")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("{2}");
        }
    }

    @Test
    void aPasswordChangedAtRunTimeIsTheOnlyOneTheMainPoolServes() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(3).perUserPoolSize(1).build())) {
            try (Connection own = ds.getConnection("postgres", OWN_PASSWORD)) {
                assertThat(Postgres.currentUser(own)).isEqualTo("postgres");
            }
            assertThat(ds.userPools()).isEmpty();
            ds.setPassword("rotated-" + OWN_PASSWORD);
            try (Connection old = ds.getConnection("postgres", OWN_PASSWORD)) {
                assertThat(Postgres.currentUser(old)).isEqualTo("postgres"); // trusted: any password logs in, in a pool of its own
            }
            assertThat(ds.userPools()).as("the old password is not the main pool's any more").hasSize(1);
            try (Connection rotated = ds.getConnection("postgres", "rotated-" + OWN_PASSWORD)) {
                assertThat(Postgres.currentUser(rotated)).isEqualTo("postgres");
            }
            assertThat(ds.userPools()).hasSize(1);
        }
    }

    /** Settings of the main pool a user's pool must not inherit as they are, or cannot. */
    @Test
    void mainPoolSettingsUsersPickStillLeaveUserPoolsWorking() throws Exception {
        // maxWaiting 0 (never wait), shedding on, and idleTimeout and maxLifetime both set equal on a fixed-size
        // main pool (valid there, not on a pool that shrinks).
        try (FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(2).perUserPoolSize(1).maxWaiting(0)
                .queueWaitTarget(Duration.ofMillis(5)).shedOnOverload(true).idleTimeout(Duration.ofSeconds(60))
                .maxLifetime(Duration.ofSeconds(60)).build())) {
            try (Connection a = ds.getConnection(ALICE, alicePassword)) {
                assertThat(Postgres.currentUser(a)).isEqualTo(ALICE);
            }
            assertThat(ds.userPoolsEngine().livePools().get(0).getValue().config().idleTimeout())
                    .isEqualTo(Duration.ofSeconds(59));
        }
        // The main pool's emergency reserve serves a CRITICAL caller when user pools hold the whole budget.
        try (FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(1).minimumIdle(0).perUserPoolSize(1)
                .reserve(1).connectionTimeout(Duration.ofSeconds(3)).build())) {
            try (Connection a = ds.getConnection(ALICE, alicePassword);
                 Connection critical = ds.forPriority(Priority.CRITICAL).getConnection()) {
                assertThat(Postgres.currentUser(a)).isEqualTo(ALICE);
                assertThat(Postgres.currentUser(critical)).isEqualTo("postgres");
                assertThat(ds.unwrap(FerryPool.class).reserveUses()).isEqualTo(1);
            }
        }
    }

    /** A DataSource that keeps its own user whatever it is asked for, as some drivers' URL forms do. */
    static final class OwnUserDataSource extends org.postgresql.ds.PGSimpleDataSource {
        @Override
        public Connection getConnection(String user, String password) throws SQLException {
            return super.getConnection(getUser(), getPassword());
        }
    }

    @Test
    void aConnectionLoggedInAsAnotherUserThanAskedIsNeverLent() throws Exception {
        OwnUserDataSource own = new OwnUserDataSource();
        own.setURL(Postgres.urlWithoutUser());
        own.setUser("postgres");
        own.setApplicationName(app);
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().dataSource(own).username("postgres")
                .poolName(app).maximumPoolSize(2).perUserPoolSize(1).build())) {
            assertThatThrownBy(() -> ds.getConnection(ALICE, alicePassword)).isInstanceOf(SQLException.class)
                    .hasMessageContaining("logged in as 'postgres'").hasMessageNotContaining(alicePassword)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"));
            assertThat(ds.userPools()).as("that pool is closed").isEmpty();
        }
    }

    @Test
    void closingTheDataSourceClosesEveryUsersConnections() throws Exception {
        FerryDataSource ds = new FerryDataSource(config().maximumPoolSize(3).perUserPoolSize(2).build());
        try (Connection a = ds.getConnection(ALICE, alicePassword);
             Connection b = ds.getConnection(BOB, bobPassword)) {
            assertThat(Postgres.currentUser(a) + Postgres.currentUser(b)).isEqualTo(ALICE + BOB);
        }
        assertThat(serverSessions()).isPositive();
        ds.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> serverSessions() == 0);
        assertThatThrownBy(() -> ds.getConnection(ALICE, alicePassword)).isInstanceOf(SQLException.class);
    }
}
