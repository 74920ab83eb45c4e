package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.SQLExceptionOverride;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** HikariCP parity and the proxy findings of issue 7, on real PostgreSQL. */
class PostgresConformanceTest {

    @BeforeAll
    static void schema() throws SQLException {
        try (Connection c = Postgres.admin(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS ferry_conformance (id bigint PRIMARY KEY, note text)");
        }
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static PGSimpleDataSource pgDataSource(String app) {
        PGSimpleDataSource pg = new PGSimpleDataSource();
        pg.setURL(Postgres.url());
        pg.setApplicationName(app);
        return pg;
    }

    // ---------------------------------------------------------------- proxies

    @Test
    void metadataStopsWorkingWhenItsConnectionIsReturned() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("md"))
                .maximumPoolSize(1).build())) {
            Connection c = ds.getConnection();
            DatabaseMetaData md = c.getMetaData();
            try (ResultSet tables = md.getTables(null, null, "ferry_conformance", null)) {
                assertThat(tables.next()).isTrue();
                assertThat(tables.getStatement()).as("no way back to the driver's statement").isNull();
                assertThat(tables.getClass().getName()).startsWith("dev.ferry.pool.");
            }
            assertThat(md.getConnection()).isSameAs(c);
            c.close();
            assertThatThrownBy(() -> md.getTables(null, null, "%", null)).isInstanceOf(SQLException.class)
                    .hasMessageContaining("Connection is closed");
            assertThatThrownBy(md::getConnection).isInstanceOf(SQLException.class);
        }
    }

    @Test
    void resultSetRowChangesCountAsTransactionWork() throws Exception {
        long id = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        try (Connection admin = Postgres.admin(); Statement s = admin.createStatement()) {
            s.executeUpdate("INSERT INTO ferry_conformance VALUES (" + id + ", 'before')");
        }
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("rs"))
                .maximumPoolSize(1).build())) {
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                try (Statement s = c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_UPDATABLE)) {
                    s.setFetchSize(0);
                    try (ResultSet rs = s.executeQuery("SELECT id, note FROM ferry_conformance WHERE id = " + id)) {
                        rs.next();
                        rs.updateString("note", "uncommitted");
                        rs.updateRow();
                    }
                }
                // returned without commit: the update must be rolled back
            }
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT note FROM ferry_conformance WHERE id = " + id)) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("before");
            }
        }
    }

    /**
     * Autocommit off, schema per tenant: a borrower's committed setSchema, then the pool's reset, then another
     * borrower's rollback must not leave the next borrower in the first one's schema.
     */
    @Test
    void schemaResetSurvivesTheNextBorrowersRollbackWithAutocommitOff() throws Exception {
        try (Connection admin = Postgres.admin(); Statement s = admin.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS ferry_tenant1");
        }
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("tenant"))
                .maximumPoolSize(1).autoCommit(false).schema("public").build())) {
            try (Connection a = ds.getConnection()) {
                a.setSchema("ferry_tenant1");
                a.commit();
            }
            try (Connection b = ds.getConnection(); Statement s = b.createStatement()) {
                s.executeQuery("SELECT 1").close();
                // closed without commit: the pool rolls back B's transaction
            }
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_schema()")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("public");
                c.rollback();
            }
            // Hibernate's schema-per-tenant pattern: the application sets the schema back itself before it
            // returns the connection, and that SET is still in an open transaction when the pool rolls back.
            try (Connection a = ds.getConnection()) {
                a.setSchema("ferry_tenant1");
                a.commit();
                a.setSchema("public");
            }
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_schema()")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("public");
                c.rollback();
            }
        }
    }

    /** A server that accepts TCP and never answers: the connect must end by its login timeout, not hang. */
    @Test
    void connectsToASilentServerEndByTheirLoginTimeout() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        List<Socket> sockets = new ArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!silent.isClosed()) {
                    try {
                        sockets.add(silent.accept());
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            String url = "jdbc:postgresql://127.0.0.1:" + silent.getLocalPort() + "/test?user=postgres";
            try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(url).minimumIdle(0)
                    .maximumPoolSize(1).initializationFailTimeout(Duration.ofMillis(-1))
                    .connectionTimeout(Duration.ofMillis(1000)).build())) {
                assertThat(ds.unwrap(dev.ferry.pool.ConnectionPool.class).toString()).contains("total=0");
                assertThatThrownBy(ds::getConnection).isInstanceOf(SQLTransientConnectionException.class);
                // The connector was not stuck on the first silent connect: it gave up and tried again.
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    try {
                        ds.getConnection().close();
                    } catch (SQLException expected) {
                        // still silent
                    }
                    return accepted.get() >= 2;
                });
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    // ---------------------------------------------------------------- HikariCP parity

    @Test
    void dataSourceClassNameWithBeanPropertiesIncludingNonStrings() throws Exception {
        String app = Postgres.uniqueApplicationName("dsclass");
        FerryDataSource ds = new FerryDataSource();
        ds.setDataSourceClassName("org.postgresql.ds.PGSimpleDataSource");
        ds.addDataSourceProperty("url", Postgres.url()); // finds setURL, as in HikariCP
        ds.addDataSourceProperty("applicationName", app);
        ds.addDataSourceProperty("loginTimeout", 5); // an Integer, passed as it is to setLoginTimeout(int)
        ds.addDataSourceProperty("portNumbers", new int[] {5432});
        ds.setMaximumPoolSize(2);
        try (ds; Connection c = ds.getConnection(); Connection admin = Postgres.admin()) {
            assertThat(pid(c)).isPositive();
            assertThat(Postgres.backends(admin, app)).isBetween(1, 2);
            assertThat(ds.unwrap(FerryConfig.class).toString()).contains("PGSimpleDataSource");
        }
    }

    @Test
    void aReadyDataSourceIsPooled() throws Exception {
        String app = Postgres.uniqueApplicationName("setds");
        FerryDataSource ds = new FerryDataSource();
        ds.setDataSource(pgDataSource(app));
        ds.setMaximumPoolSize(2);
        ds.setMinimumIdle(0);
        try (ds; Connection admin = Postgres.admin()) {
            int first;
            try (Connection c = ds.getConnection()) {
                first = pid(c);
            }
            try (Connection c = ds.getConnection()) {
                assertThat(pid(c)).as("the same physical connection, pooled").isEqualTo(first);
            }
            assertThat(Postgres.backends(admin, app)).isEqualTo(1);
        }
    }

    /** Ferry's own override interface: evict on an error Ferry would keep the connection for. */
    public static final class EvictOnSyntaxError implements ExceptionOverride {
        @java.lang.Override
        public Decision adjudicate(SQLException e) {
            return "42601".equals(e.getSQLState()) ? Decision.MUST_EVICT : Decision.CONTINUE_EVICT;
        }
    }

    /** HikariCP's interface, as a migrating application has it: Ferry calls it too. */
    public static final class HikariKeepOnFeatureNotSupported implements SQLExceptionOverride {
        @java.lang.Override
        public SQLExceptionOverride.Override adjudicate(SQLException e) {
            return "0A000".equals(e.getSQLState()) ? SQLExceptionOverride.Override.DO_NOT_EVICT
                    : SQLExceptionOverride.Override.CONTINUE_EVICT;
        }
    }

    /** feature_not_supported (0A000), which Ferry (like HikariCP) treats as fatal. */
    private static final String FEATURE_NOT_SUPPORTED = "SELECT relname FROM pg_class GROUP BY relname FOR UPDATE";

    @Test
    void exceptionOverrideDecidesEviction() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("override"))
                .maximumPoolSize(1).exceptionOverrideClassName(EvictOnSyntaxError.class.getName()).build())) {
            int before;
            try (Connection c = ds.getConnection()) {
                before = pid(c);
                assertThatThrownBy(() -> c.createStatement().execute("SELEC 1")).isInstanceOf(SQLException.class);
            }
            try (Connection c = ds.getConnection()) {
                assertThat(pid(c)).as("evicted by the override").isNotEqualTo(before);
            }
        }
    }

    @Test
    void hikariExceptionOverrideClassesWork() throws Exception {
        for (boolean withOverride : new boolean[] {false, true}) {
            FerryConfig.Builder config = Postgres.config(Postgres.uniqueApplicationName("hkoverride"))
                    .maximumPoolSize(1);
            if (withOverride) {
                config.exceptionOverrideClassName(HikariKeepOnFeatureNotSupported.class.getName());
            }
            try (FerryDataSource ds = new FerryDataSource(config.build())) {
                int before;
                try (Connection c = ds.getConnection()) {
                    before = pid(c);
                    assertThatThrownBy(() -> c.createStatement().execute(FEATURE_NOT_SUPPORTED))
                            .isInstanceOf(SQLException.class).extracting(e -> ((SQLException) e).getSQLState())
                            .isEqualTo("0A000");
                }
                try (Connection c = ds.getConnection()) {
                    if (withOverride) {
                        assertThat(pid(c)).as("HikariCP override said keep it").isEqualTo(before);
                    } else {
                        assertThat(pid(c)).as("0A000 evicts by default").isNotEqualTo(before);
                    }
                }
            }
        }
    }

    @Test
    void evictConnectionRetiresItWhenReturned() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("evictc"))
                .maximumPoolSize(1).build())) {
            int before;
            try (Connection c = ds.getConnection()) {
                before = pid(c);
                ds.evictConnection(c);
                assertThat(pid(c)).as("still usable by its borrower").isEqualTo(before);
            }
            try (Connection c = ds.getConnection()) {
                assertThat(pid(c)).isNotEqualTo(before);
            }
        }
    }

    @Test
    void hikariPropertiesFile() throws Exception {
        String app = Postgres.uniqueApplicationName("propfile");
        Path file = Files.createTempFile("hikari", ".properties");
        try {
            Files.writeString(file, String.join("\n",
                    "jdbcUrl=" + Postgres.url(),
                    "maximumPoolSize=3",
                    "minimumIdle=1",
                    "connectionTimeout=2000",
                    "poolName=" + app,
                    "registerMbeans=false",
                    "dataSource.ApplicationName=" + app,
                    "dataSource.reWriteBatchedInserts=true"));
            try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().propertiesFile(file.toString())
                    .build()); Connection c = ds.getConnection(); Connection admin = Postgres.admin()) {
                assertThat(c.isValid(1)).isTrue();
                assertThat(Postgres.backends(admin, app)).isBetween(1, 3);
                assertThat(ds.getMaximumPoolSize()).isEqualTo(3);
                assertThat(ds.getConnectionTimeout()).isEqualTo(2000);
            }
        } finally {
            Files.delete(file);
        }
        assertThatThrownBy(() -> FerryConfig.builder().properties(props("jdbcUrl", Postgres.url(),
                "maximumPoolSise", "3")).build()).hasMessageContaining("maximumPoolSise: not a setting");
    }

    private static java.util.Properties props(String... kv) {
        java.util.Properties p = new java.util.Properties();
        for (int i = 0; i < kv.length; i += 2) {
            p.setProperty(kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void theConfigConstructorStartsAtOnceAndFailsFast() {
        FerryConfig unreachable = FerryConfig.builder().jdbcUrl("jdbc:postgresql://127.0.0.1:1/test?user=postgres")
                .connectionTimeout(Duration.ofMillis(1000)).build();
        assertThatThrownBy(() -> new FerryDataSource(unreachable)).isInstanceOf(PoolInitializationException.class)
                .hasCauseInstanceOf(SQLException.class)
                .hasMessageContaining("could not open a first connection");
    }

    @Test
    void initializationFailTimeoutZeroStartsEvenWhenTheDatabaseIsDown() throws Exception {
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder()
                .jdbcUrl("jdbc:postgresql://127.0.0.1:1/test?user=postgres").initializationFailTimeout(Duration.ZERO)
                .minimumIdle(0).connectionTimeout(Duration.ofMillis(500)).build())) {
            assertThat(ds.isRunning()).isTrue();
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLTransientConnectionException.class)
                    .hasMessageContaining("last connection error");
        }
    }
}
