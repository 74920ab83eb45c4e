package dev.ferry;

import static org.junit.jupiter.api.Assumptions.abort;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * The PostgreSQL server the tests run against: {@code FERRY_TEST_PG_URL}, by default
 * {@code jdbc:postgresql://127.0.0.1:5432/test?user=postgres}. The database is created if missing. When the
 * server cannot be reached the tests are skipped, except with {@code CI=true}, where that is a failure.
 */
public final class Postgres {

    public static final String DEFAULT_URL = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
    private static volatile String checkedUrl;

    private Postgres() {
    }

    /** The URL, after making sure the database exists; skips or fails the test if it cannot. */
    public static String url() {
        String url = System.getenv().getOrDefault("FERRY_TEST_PG_URL", DEFAULT_URL);
        if (url.equals(checkedUrl)) {
            return url;
        }
        try {
            ensureDatabase(url);
        } catch (SQLException e) {
            String message = "PostgreSQL not reachable at " + url + ": " + e.getMessage();
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(message + " (CI=true: a missing database is a failure)", e);
            }
            abort(message);
        }
        checkedUrl = url;
        return url;
    }

    private static void ensureDatabase(String url) throws SQLException {
        try (Connection c = DriverManager.getConnection(url)) {
            c.isValid(2);
        } catch (SQLException e) {
            if (!"3D000".equals(e.getSQLState())) { // invalid_catalog_name: the database does not exist
                throw e;
            }
            String database = url.replaceFirst("^jdbc:postgresql://[^/]*/", "").replaceFirst("[?].*$", "");
            String admin = url.replaceFirst("(^jdbc:postgresql://[^/]*/)[^?]*", "$1postgres");
            try (Connection c = DriverManager.getConnection(admin); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE \"" + database.replace("\"", "\"\"") + "\"");
            }
        }
    }

    /** A unique application_name, so a test can count its own backends in pg_stat_activity. */
    public static String uniqueApplicationName(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** A pool configuration on the test database, tagged with an application_name. */
    public static FerryConfig.Builder config(String applicationName) {
        return FerryConfig.builder()
                .jdbcUrl(url())
                .dataSourceProperty("ApplicationName", applicationName)
                .poolName(applicationName);
    }

    /** A direct (unpooled) connection for checking the server's view. */
    public static Connection admin() throws SQLException {
        return DriverManager.getConnection(url());
    }

    /** Backends the server has for this application_name right now. */
    public static int backends(Connection admin, String applicationName) throws SQLException {
        try (var ps = admin.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?")) {
            ps.setString(1, applicationName);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Whether the server still has the backend {@code pid}. */
    public static boolean backendAlive(int pid) throws SQLException {
        try (Connection admin = admin(); var ps = admin.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ?")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1) > 0;
            }
        }
    }

    /** The test database's URL without its user: the role and password come from the pool's settings. */
    public static String urlWithoutUser() {
        return url().replaceAll("([?&])user=[^&]*&?", "$1").replaceAll("[?&]$", "");
    }

    /** The role a connection is logged in as ({@code current_user}). */
    public static String currentUser(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Runs one statement on a direct connection. */
    public static void execute(String sql) throws SQLException {
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /**
     * Creates (afresh) a login role, a member of {@code ferry_pw}, whose password the server checks on 127.0.0.1
     * ({@code .ci/pg-passwords} sets that up); skips the test where it does not, fails it with {@code CI=true}.
     */
    public static void createPasswordRole(String role, String password) throws SQLException {
        execute("DO $$ BEGIN CREATE ROLE ferry_pw NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        dropRole(role);
        execute("CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "' IN ROLE ferry_pw");
        java.util.Properties wrong = new java.util.Properties();
        wrong.setProperty("user", role);
        wrong.setProperty("password", "not-" + password);
        boolean checked;
        try (Connection c = DriverManager.getConnection(urlWithoutUser(), wrong)) {
            checked = false;
        } catch (SQLException e) {
            checked = "28P01".equals(e.getSQLState());
        }
        if (!checked) {
            String why = "the server does not check passwords for members of ferry_pw on 127.0.0.1 "
                    + "(run: bash .ci/pg-passwords 15)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(why);
            }
            abort(why);
        }
    }

    /** Ends the role's sessions and drops it, if it exists. */
    public static void dropRole(String role) throws SQLException {
        execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role + "'");
        execute("DROP ROLE IF EXISTS " + role);
    }

    /** Terminates every backend of this application_name; returns how many. */
    public static int terminate(Connection admin, String applicationName) throws SQLException {
        try (var ps = admin.prepareStatement("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                + "WHERE application_name = ? AND pid <> pg_backend_pid()")) {
            ps.setString(1, applicationName);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
