package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pool's reset and recovery against MariaDB, where one runs ({@code FERRY_TEST_MARIADB_URL}, by default
 * {@code jdbc:mariadb://127.0.0.1:3306/test?user=root}). Skipped when no server answers: PostgreSQL is the
 * database CI requires; MariaDB is checked where available.
 */
class MariaDbPoolTest {

    private static final String URL = System.getenv().getOrDefault("FERRY_TEST_MARIADB_URL",
            "jdbc:mariadb://127.0.0.1:3306/test?user=root");

    @BeforeAll
    static void schema() {
        try (Connection c = DriverManager.getConnection(URL); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS ferry_pool_test (id BIGINT PRIMARY KEY, note VARCHAR(64)) "
                    + "ENGINE=InnoDB");
        } catch (SQLException e) {
            assumeTrue(false, "MariaDB not reachable at " + URL + ": " + e.getMessage());
        }
    }

    private static long connectionId(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT CONNECTION_ID()")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static FerryDataSource pool() {
        return new FerryDataSource(FerryConfig.builder().jdbcUrl(URL).maximumPoolSize(1)
                .poolName("mariadb-test").build());
    }

    @Test
    void stateIsResetAndUncommittedWorkRolledBackOnReturn() throws Exception {
        long id = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        try (FerryDataSource ds = pool()) {
            long connectionId;
            String catalog;
            int isolation;
            try (Connection c = ds.getConnection()) {
                connectionId = connectionId(c);
                catalog = c.getCatalog();
                isolation = c.getTransactionIsolation();
                c.setAutoCommit(false);
                c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO ferry_pool_test VALUES (?, 'uncommitted')")) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                }
                c.setCatalog("mysql");
            }
            try (Connection c = ds.getConnection()) {
                assertThat(connectionId(c)).as("same physical connection").isEqualTo(connectionId);
                assertThat(c.getAutoCommit()).isTrue();
                assertThat(c.getTransactionIsolation()).isEqualTo(isolation);
                assertThat(c.getCatalog()).isEqualTo(catalog);
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM ferry_pool_test WHERE id = ?")) {
                    ps.setLong(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).as("uncommitted insert rolled back").isZero();
                    }
                }
            }
        }
    }

    @Test
    void killedConnectionIsReplaced() throws Exception {
        try (FerryDataSource ds = pool(); Connection admin = DriverManager.getConnection(URL)) {
            long killed;
            try (Connection c = ds.getConnection()) {
                killed = connectionId(c);
                try (Statement s = admin.createStatement()) {
                    s.execute("KILL " + killed);
                }
                assertThatThrownBy(() -> connectionId(c)).isInstanceOf(SQLException.class);
            }
            try (Connection c = ds.getConnection()) {
                assertThat(connectionId(c)).as("a new connection").isNotEqualTo(killed);
            }
        }
    }

    @Test
    void perUserPoolsLogEachUserInAndRefuseAWrongPasswordAtOnce() throws Exception {
        String password = "alice-" + System.nanoTime();
        try (Connection admin = DriverManager.getConnection(URL); Statement s = admin.createStatement()) {
            s.execute("DROP USER IF EXISTS 'ferry_alice'@'127.0.0.1'");
            s.execute("DROP USER IF EXISTS 'ferry_alice'@'localhost'");
            s.execute("CREATE USER 'ferry_alice'@'127.0.0.1' IDENTIFIED BY '" + password + "'");
            s.execute("CREATE USER 'ferry_alice'@'localhost' IDENTIFIED BY '" + password + "'");
            s.execute("GRANT SELECT ON test.* TO 'ferry_alice'@'127.0.0.1'");
            s.execute("GRANT SELECT ON test.* TO 'ferry_alice'@'localhost'");
        }
        String urlWithoutUser = URL.replaceAll("([?&])user=[^&]*&?", "$1").replaceAll("[?&]$", "");
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(urlWithoutUser).username("root")
                .maximumPoolSize(2).minimumIdle(2).perUserPoolSize(1).poolName("mariadb-users")
                .connectionTimeout(java.time.Duration.ofSeconds(30)).build())) {
            assertThat(ds.warmUp(2, java.time.Duration.ofSeconds(10)).open()).isEqualTo(2); // the whole budget
            try (Connection a = ds.getConnection("ferry_alice", password);
                 Statement st = a.createStatement(); ResultSet rs = st.executeQuery("SELECT CURRENT_USER()")) {
                rs.next();
                assertThat(rs.getString(1)).startsWith("ferry_alice@");
                assertThat(ds.unwrap(FerryPool.class).totalConnections()).as("main gave up an idle place")
                        .isEqualTo(1);
            }
            assertThatThrownBy(() -> ds.getConnection("ferry_alice", "not-" + password))
                    .isInstanceOf(SQLException.class)
                    .isNotInstanceOf(java.sql.SQLTransientConnectionException.class)
                    .hasMessageContaining("refused the login of user 'ferry_alice'")
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).startsWith("28"));
        } finally {
            try (Connection admin = DriverManager.getConnection(URL); Statement s = admin.createStatement()) {
                s.execute("DROP USER IF EXISTS 'ferry_alice'@'127.0.0.1'");
                s.execute("DROP USER IF EXISTS 'ferry_alice'@'localhost'");
            }
        }
    }
}
