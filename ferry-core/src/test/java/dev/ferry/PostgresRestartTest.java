package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.File;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * PostgreSQL restarted (fast shutdown) under load, with the defaults and with minimumIdle 0: callers fail with
 * SQLExceptions while it is down, nobody waits past connectionTimeout, and borrowers succeed as soon as the
 * server accepts connections again. Needs the local cluster ({@code pg_ctlcluster}); elsewhere it is skipped,
 * except with {@code CI=true}, where that is a failure.
 */
@Tag("restart")
class PostgresRestartTest {

    enum Shape {
        DEFAULTS, MIN_IDLE_0
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void recoversAcrossAFastRestart(Shape shape) throws Exception {
        String[] restart = restartCommand("fast");
        String app = Postgres.uniqueApplicationName("restart");
        FerryConfig.Builder config = Postgres.config(app).connectionTimeout(Duration.ofSeconds(5));
        if (shape == Shape.MIN_IDLE_0) {
            config.minimumIdle(0).connectionTimeout(Duration.ofMillis(1000));
        }
        try (FerryDataSource ds = new FerryDataSource(config.build())) {
            ServerOutage.Result result = ServerOutage.underLoad(ds, () -> {
                run(restart);
                try (Connection c = Postgres.admin()) { // the server accepts connections again
                    assertThat(c.isValid(2)).isTrue();
                }
            });
            assertThat(result.succeeded()).isPositive();
        }
    }

    /** Runs a cluster command and asserts it finished within a minute with exit 0 (its output in the failure). */
    static void run(String[] command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", String.join(" ", command)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes())).isZero();
    }

    /** The command that restarts the local test cluster in this shutdown mode (fast, immediate). */
    public static String[] restartCommand(String mode) {
        return clusterCommand("restart", "-m", mode);
    }

    /** {@code pg_ctlcluster <version> main <action...>} for the local test cluster (stop, start, restart). */
    public static String[] clusterCommand(String... action) {
        File conf = new File("/etc/postgresql");
        String[] versions = conf.list();
        boolean local = Postgres.url().contains("127.0.0.1") || Postgres.url().contains("localhost");
        if (!local || versions == null || versions.length == 0 || !new File("/usr/bin/pg_ctlcluster").exists()) {
            String why = "no local PostgreSQL cluster to restart (pg_ctlcluster)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(why + " (CI=true: this is a failure)");
            }
            abort(why);
        }
        String version = java.util.Arrays.stream(versions).filter(v -> v.matches("\\d+"))
                .max(java.util.Comparator.comparingInt(Integer::parseInt)).orElseThrow(); // 16 after 9
        String[] command = new String[4 + action.length];
        command[0] = "pg_ctlcluster";
        command[1] = "--skip-systemctl-redirect";
        command[2] = version;
        command[3] = "main";
        System.arraycopy(action, 0, command, 4, action.length);
        return command;
    }
}
