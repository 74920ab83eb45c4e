package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a failed commit tells its caller, on real PostgreSQL: when the connection dies under the commit, SQLState
 * 08007 (transaction resolution unknown) with the driver's error as its cause, never a plain connection error
 * that invites a blind retry; when the commit fails for a reason that leaves the outcome known (a deferred
 * constraint: rolled back), the driver's own error, untouched.
 */
class PostgresCommitOutcomeTest {

    @ParameterizedTest(name = "pool autoCommit={0}")
    @ValueSource(booleans = {true, false})
    void aCommitCutOffFromTheServerIsReportedAsOutcomeUnknown(boolean poolAutoCommit) throws Exception {
        String app = Postgres.uniqueApplicationName("commit-outcome");
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(app).maximumPoolSize(1).minimumIdle(0)
                .autoCommit(poolAutoCommit).connectionTimeout(Duration.ofSeconds(5)).build());
             Connection admin = Postgres.admin(); Statement a = admin.createStatement()) {
            a.execute("CREATE TABLE IF NOT EXISTS commit_outcome (id text PRIMARY KEY)");
            String id = app;
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO commit_outcome VALUES (?)")) {
                    ps.setString(1, id);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = admin.prepareStatement(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?")) {
                    ps.setString(1, app);
                    ps.executeQuery().close();
                }
                assertThatThrownBy(c::commit).isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("08007");
                    assertThat(e.getMessage()).contains("outcome unknown").contains("check before retrying");
                    assertThat(e.getCause()).isInstanceOf(SQLException.class);
                });
            }
            try (PreparedStatement ps = admin.prepareStatement("SELECT count(*) FROM commit_outcome WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("terminated before the commit: rolled back").isZero();
                }
            }
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("SELECT 1"); // the broken connection was not lent again
            }
        }
    }

    @ParameterizedTest(name = "pool autoCommit={0}")
    @ValueSource(booleans = {true, false})
    void aCommitRefusedByTheServerKeepsItsOwnError(boolean poolAutoCommit) throws Exception {
        String app = Postgres.uniqueApplicationName("commit-refused");
        try (FerryDataSource ds = new FerryDataSource(Postgres.config(app).maximumPoolSize(1).minimumIdle(0)
                .autoCommit(poolAutoCommit).connectionTimeout(Duration.ofSeconds(5)).build());
             Connection admin = Postgres.admin(); Statement a = admin.createStatement()) {
            a.execute("CREATE TABLE IF NOT EXISTS commit_refused (id int, CONSTRAINT commit_refused_u UNIQUE (id) "
                    + "DEFERRABLE INITIALLY DEFERRED)");
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.execute("INSERT INTO commit_refused VALUES (1), (1)");
                assertThatThrownBy(c::commit).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("23505"));
            }
        }
    }
}
