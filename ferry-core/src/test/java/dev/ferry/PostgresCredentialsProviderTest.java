package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The credentials provider against a PostgreSQL role that really checks its password (a member of
 * {@code ferry_pw}, for which {@code .ci/pg-passwords} makes loopback logins use scram-sha-256): a rotated secret
 * reaches new connections, a wrong one is refused by the server, expired credentials are never sent, and a
 * connection is retired before the credentials it was opened with expire (time driven by hand).
 */
class PostgresCredentialsProviderTest {

    private static final String ROLE = "ferry_pw_rotating";

    private final AtomicReference<String> secret = new AtomicReference<>("first-" + System.nanoTime());
    private final AtomicReference<Instant> expiresAt = new AtomicReference<>();
    private final AtomicInteger asked = new AtomicInteger();
    private final CredentialsProvider provider = () -> {
        asked.incrementAndGet();
        return new CredentialsProvider.Credentials(null, secret.get(), expiresAt.get());
    };

    @BeforeEach
    void createRole() throws SQLException {
        Postgres.createPasswordRole(ROLE, secret.get());
    }

    @AfterEach
    void dropRole() throws SQLException {
        Postgres.dropRole(ROLE);
    }

    private FerryConfig.Builder config() {
        return FerryConfig.builder().jdbcUrl(Postgres.urlWithoutUser()).username(ROLE).credentialsProvider(provider)
                .poolName("credentials").maximumPoolSize(2).minimumIdle(0).connectionTimeout(Duration.ofSeconds(2));
    }

    private static int backend(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void eachNewConnectionAsksTheProviderSoARotatedSecretReachesNewConnections() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(config().build())) {
            try (Connection c = ds.getConnection()) {
                assertThat(Postgres.currentUser(c)).isEqualTo(ROLE);
            }
            int before = asked.get();
            assertThat(before).isPositive();

            String rotated = "second-" + System.nanoTime();
            Postgres.execute("ALTER ROLE " + ROLE + " PASSWORD '" + rotated + "'");
            secret.set(rotated);
            ds.unwrap(FerryPool.class).softEvictConnections(); // the old connections are retired; new ones log in with the new secret
            try (Connection c = ds.getConnection()) {
                assertThat(Postgres.currentUser(c)).isEqualTo(ROLE);
            }
            assertThat(asked.get()).as("asked again for the new connection").isGreaterThan(before);

            secret.set("wrong-" + System.nanoTime()); // what the provider gives is what the server gets
            ds.unwrap(FerryPool.class).softEvictConnections();
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(causes((SQLException) e)).contains("28P01"));
        }
    }

    @Test
    void expiredCredentialsAreNeverSentAndTheProviderIsAskedOnceMore() throws Exception {
        MutableClock clock = new MutableClock(ZonedDateTime.of(2026, 11, 25, 12, 0, 0, 0, ZoneOffset.UTC));
        secret.set("not-the-password"); // sent, the server would answer 28P01 (password authentication failed)
        expiresAt.set(clock.instant().minusSeconds(1));
        try (FerryDataSource ds = new FerryDataSource(config().clock(clock)
                .initializationFailTimeout(Duration.ofMillis(-1)).build())) { // no connection at start
            int before = asked.get();
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(causes((SQLException) e)).contains("28000").doesNotContain("28P01"))
                    .satisfies(e -> assertThat(messages(e)).contains("expired at").contains("no connection was "
                            + "opened with them").doesNotContain("not-the-password"));
            assertThat(asked.get() - before).as("asked once more after expired credentials, per attempt")
                    .isGreaterThanOrEqualTo(2).isEven();
        }
    }

    @Test
    void aConnectionIsRetiredBeforeItsCredentialsExpireAndNotLentAfter() throws Exception {
        FakeTicker ticker = new FakeTicker();
        MutableClock clock = new MutableClock(ZonedDateTime.of(2026, 11, 25, 12, 0, 0, 0, ZoneOffset.UTC));
        expiresAt.set(clock.instant().plus(Duration.ofMinutes(10))); // retired 30 s ahead: at 9:30
        try (FerryDataSource ds = new FerryDataSource(config().ticker(ticker).clock(clock)
                .maxLifetime(Duration.ZERO).build())) {
            int first;
            try (Connection c = ds.getConnection()) {
                first = backend(c);
            }
            advance(ticker, clock, Duration.ofMinutes(9));
            try (Connection c = ds.getConnection()) {
                assertThat(backend(c)).as("before the margin: the same connection").isEqualTo(first);
            }
            expiresAt.set(clock.instant().plus(Duration.ofMinutes(10))); // the provider's next token
            int askedBefore = asked.get();
            advance(ticker, clock, Duration.ofSeconds(40)); // 9:40: past 9:30, before the 10:00 expiry
            int second;
            try (Connection c = ds.getConnection()) {
                second = backend(c);
                assertThat(second).as("not lent after its retirement time: a new connection").isNotEqualTo(first);
                assertThat(asked.get()).as("with fresh credentials").isGreaterThan(askedBefore);
                advance(ticker, clock, Duration.ofMinutes(10)); // its credentials expire while it is lent
            }
            expiresAt.set(clock.instant().plus(Duration.ofMinutes(10))); // the provider's next token
            try (Connection c = ds.getConnection()) {
                assertThat(backend(c)).as("retired when returned after its time").isNotEqualTo(second);
            }
            // Closes run on the pool's closer thread: the server's view is polled.
            org.awaitility.Awaitility.await("the first connection's backend is closed").atMost(Duration.ofSeconds(10))
                    .until(() -> !Postgres.backendAlive(first));
            org.awaitility.Awaitility.await("the second connection's backend is closed").atMost(Duration.ofSeconds(10))
                    .until(() -> !Postgres.backendAlive(second));
        }
    }

    @Test
    void aPasswordBesideTheProviderFailsTheBuildAndCredentialsNeverPrintTheirPassword() {
        assertThatThrownBy(() -> config().password("x").build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("credentialsProvider: set together with password");
        assertThatThrownBy(() -> FerryConfig.builder().jdbcUrl(Postgres.DEFAULT_URL + "&password=hunter2")
                .credentialsProvider(provider).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("password in jdbcUrl").hasMessageNotContaining("hunter2");
        assertThat(CredentialsProvider.Credentials.of("u", "hunter2").toString()).doesNotContain("hunter2");
        assertThat(config().build().toString()).contains("credentialsProvider=");
    }

    /** A HikariCP 7 provider, as a HikariCP user has it, named by class in a properties file. */
    public static final class HikariSecretFile implements com.zaxxer.hikari.HikariCredentialsProvider {
        static final AtomicReference<String> SECRET = new AtomicReference<>();
        static final AtomicInteger ASKED = new AtomicInteger();

        @java.lang.Override
        public com.zaxxer.hikari.util.Credentials getCredentials() {
            ASKED.incrementAndGet();
            return com.zaxxer.hikari.util.Credentials.of(ROLE, SECRET.get());
        }
    }

    @Test
    void hikariCpsCredentialsProviderClassNameIsUsedAsItIs() throws Exception {
        HikariSecretFile.SECRET.set(secret.get());
        java.util.Properties hikari = new java.util.Properties();
        hikari.setProperty("jdbcUrl", Postgres.urlWithoutUser());
        hikari.setProperty("credentialsProviderClassName", HikariSecretFile.class.getName());
        hikari.setProperty("maximumPoolSize", "1");
        hikari.setProperty("connectionTimeout", "3000");
        FerryConfig config = FerryConfig.builder().properties(hikari).build();
        assertThat(config.toString()).contains("credentialsProvider=" + HikariSecretFile.class.getName())
                .doesNotContain(secret.get());
        int before = HikariSecretFile.ASKED.get();
        try (FerryDataSource ds = new FerryDataSource(config); Connection c = ds.getConnection()) {
            assertThat(Postgres.currentUser(c)).isEqualTo(ROLE);
            assertThat(HikariSecretFile.ASKED.get()).isGreaterThan(before);
        }
        HikariSecretFile.SECRET.set("wrong-" + secret.get());
        hikari.setProperty("initializationFailTimeout", "-1");
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().properties(hikari).build())) {
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(causes((SQLException) e)).contains("28P01"))
                    .satisfies(e -> assertThat(messages(e)).doesNotContain(secret.get()));
        }
    }

    private static void advance(FakeTicker ticker, MutableClock clock, Duration d) {
        ticker.advance(d);
        clock.advance(d);
    }

    private static String causes(SQLException e) {
        StringBuilder states = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                states.append(s.getSQLState()).append(' ');
            }
        }
        return states.toString();
    }

    private static String messages(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append(" | ");
        }
        return all.toString();
    }
}
