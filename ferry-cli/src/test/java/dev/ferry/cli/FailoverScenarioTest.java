package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.abort;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry load --scenario failover --chaos promote} on a primary and synchronous replica of its own
 * ({@code .ci/pg-failover-pair}), Ferry and HikariCP (pgjdbc's multi-host URL) side by side; and the options'
 * errors.
 */
class FailoverScenarioTest {

    static final String PRIMARY = "jdbc:postgresql://127.0.0.1:5434/test?user=postgres";
    static final String REPLICA = "jdbc:postgresql://127.0.0.1:5435/test?user=postgres";

    @TempDir
    Path dir;

    @Test
    void chaosPromoteFailsOverAndReportsTheOutageAndNoLostWrite() throws Exception {
        Path script = script();
        String version = pair(script, "up");
        try {
            Path json = dir.resolve("failover.json");
            CliRun run = CliRun.of("load", "--scenario", "failover", "--url", PRIMARY, "--replica", REPLICA,
                    "--pools", "ferry,hikari", "--clients", "6", "--duration", "9", "--fault-at", "2",
                    "--chaos", "promote", "--timeout-ms", "5000", "--json", json.toString());
            assertThat(run.exit()).as(run.out() + run.err()).isZero();
            assertThat(run.out()).contains("chaos: stopping the primary (failover_a").contains("chaos: promoting "
                    + "the replica (failover_b)").contains("Ferry's failover event:");
            JsonNode root = new ObjectMapper().readTree(json.toFile());
            assertThat(root.get("settings").get("chaos").asText()).isEqualTo("promote");
            for (String pool : List.of("ferry", "hikari")) {
                JsonNode p = root.get("pools").get(pool);
                assertThat(p.get("acked").asLong()).as(pool).isEqualTo(p.get("writes_ok").asLong()).isPositive();
                assertThat(p.get("failed").asLong() + p.get("outcome_unknown").asLong()).as(pool)
                        .isEqualTo(p.get("writes_failed").asLong());
                assertThat(p.get("acked_missing").asLong()).as("%s: acknowledged writes lost", pool).isZero();
                assertThat(p.get("write_longest_gap_ms").asLong()).as("%s: writes stopped for a while", pool)
                        .isPositive();
            }
            JsonNode ferry = root.get("pools").get("ferry");
            assertThat(ferry.get("reads_failed").asLong()).as("Ferry's reads stay on the replica").isZero();
            assertThat(ferry.get("failover_event").asText()).contains(":5434/").contains(":5435/");
        } finally {
            pair(script, "down");
        }
    }

    @Test
    void chaosNeedsLocalClustersAndTheFailoverScenario() {
        CliRun remote = CliRun.of("load", "--scenario", "failover", "--url", "jdbc:postgresql://db.example:5432/app",
                "--replica", "jdbc:postgresql://replica.example:5432/app", "--chaos", "promote");
        assertThat(remote.exit()).isNotZero();
        assertThat(remote.err()).contains("--chaos").contains("db.example").contains("this machine");
        CliRun other = CliRun.of("load", "--scenario", "spike", "--url", PRIMARY, "--replica", REPLICA);
        assertThat(other.exit()).isNotZero();
        assertThat(other.err()).contains("--replica").contains("only with --scenario failover");
        CliRun noReplica = CliRun.of("load", "--scenario", "failover", "--url", PRIMARY);
        assertThat(noReplica.exit()).isNotZero();
        assertThat(noReplica.err()).contains("--replica").contains("PostgreSQL JDBC URL");
        CliRun badChaos = CliRun.of("load", "--scenario", "failover", "--url", PRIMARY, "--replica", REPLICA,
                "--chaos", "restart");
        assertThat(badChaos.exit()).isNotZero();
        assertThat(badChaos.err()).contains("--chaos: got 'restart'").contains("allowed: promote");
    }

    private static Path script() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path s = d.resolve(".ci/pg-failover-pair");
            if (Files.isRegularFile(s)) {
                boolean root = "root".equals(System.getProperty("user.name"));
                if (root && Files.isDirectory(Path.of("/etc/postgresql"))) {
                    return s;
                }
                break;
            }
        }
        String message = "the failover scenario test needs root, Debian's PostgreSQL cluster tools and "
                + ".ci/pg-failover-pair";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(message + " (CI=true: missing is a failure)");
        }
        abort(message);
        return null;
    }

    /** Runs the pair script; returns the PostgreSQL version it used. */
    private static String pair(Path script, String action) throws Exception {
        String version;
        try (var versions = Files.list(Path.of("/etc/postgresql"))) {
            version = versions.map(p -> p.getFileName().toString()).filter(n -> n.matches("\\d+"))
                    .max((a, b) -> Integer.compare(Integer.parseInt(a), Integer.parseInt(b))).orElseThrow();
        }
        Path log = Files.createTempFile("ferry-pair", ".log");
        try {
            Process p = new ProcessBuilder("bash", script.toString(), version, action).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("pg-failover-pair %s finished", action).isTrue();
            assertThat(p.exitValue()).as(Files.readString(log)).isZero();
        } finally {
            Files.deleteIfExists(log);
        }
        return version;
    }
}
