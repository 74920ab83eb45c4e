package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry load} on real PostgreSQL ({@code FERRY_TEST_PG_URL}, the same default as the core tests): the JSON
 * schema and its consistency, the report, errors, and that passwords never show.
 */
class LoadCommandTest {

    static final String PG = System.getenv().getOrDefault("FERRY_TEST_PG_URL",
            "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

    @TempDir
    Path dir;

    /** Checks every pool's figures: the documented fields exist and agree with each other. */
    static JsonNode checkSchema(Path json, String scenario, List<String> pools) throws Exception {
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.get("scenario").asText()).isEqualTo(scenario);
        for (String pool : pools) {
            JsonNode p = root.get("pools").get(pool);
            assertThat(p).as("pool %s", pool).isNotNull();
            for (String field : List.of("requests", "succeeded", "failed", "timeouts", "throughput_per_s",
                    "latency_ms", "acquire_ms", "connections_opened", "peak_pool_size", "round_trips")) {
                assertThat(p.has(field)).as("%s.%s", pool, field).isTrue();
            }
            long requests = p.get("requests").asLong();
            assertThat(requests).isPositive();
            assertThat(p.get("succeeded").asLong() + p.get("failed").asLong()).as("success + errors = requests")
                    .isEqualTo(requests);
            assertThat(p.get("timeouts").asLong()).isLessThanOrEqualTo(p.get("failed").asLong());
            long errorSum = 0;
            for (JsonNode n : p.get("errors")) {
                errorSum += n.asLong();
            }
            assertThat(errorSum).isEqualTo(p.get("failed").asLong());
            for (String h : List.of("latency_ms", "acquire_ms")) {
                JsonNode l = p.get(h);
                assertThat(l.get("p50").asDouble()).isLessThanOrEqualTo(l.get("p95").asDouble());
                assertThat(l.get("p95").asDouble()).isLessThanOrEqualTo(l.get("p99").asDouble());
                assertThat(l.get("p99").asDouble()).isLessThanOrEqualTo(l.get("max").asDouble());
            }
            assertThat(p.get("throughput_per_s").asDouble()).isPositive();
            assertThat(p.get("round_trips").asLong()).isPositive();
            assertThat(p.get("peak_pool_size").asInt()).isPositive();
            assertThat(p.get("connections_opened").asLong()).as("%s: every connection seen was opened", pool)
                    .isGreaterThanOrEqualTo(p.get("peak_pool_size").asLong());
        }
        return root;
    }

    @Test
    void spikeOnAllThreePoolsWritesConsistentJsonAndAReport() throws Exception {
        Path json = dir.resolve("out.json");
        Path report = dir.resolve("out.html");
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "spike", "--clients", "300", "--warmup", "100",
                "--pools", "ferry,hikari,direct", "--json", json.toString(), "--report", report.toString(),
                "--no-progress");
        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode root = checkSchema(json, "spike", List.of("ferry", "hikari", "direct"));
        assertThat(root.get("pools").get("ferry").get("peak_pool_size").asInt()).isLessThanOrEqualTo(10);
        assertThat(root.get("pools").get("direct").get("connections_opened").asLong()).isGreaterThan(10);
        assertThat(Files.readString(report)).contains("uPlot", "\"ferry\"", "\"hikari\"", "\"direct\"");
        assertThat(run.out()).contains("scenario spike", "vs direct");
    }

    @Test
    void lookupAndIngestBatchOnFerryAndNotOnHikari() throws Exception {
        for (String scenario : List.of("lookup", "ingest")) {
            Path json = dir.resolve(scenario + ".json");
            CliRun run = CliRun.of("load", "--url", PG, "--scenario", scenario, "--clients", "50", "--duration", "1",
                    "--warmup", "100", "--pools", "ferry,hikari", "--json", json.toString(), "--no-progress");
            assertThat(run.exit()).as(run.err()).isZero();
            JsonNode root = checkSchema(json, scenario, List.of("ferry", "hikari"));
            JsonNode pools = root.get("pools");
            // The reference measured alone after the pools: the plain-JDBC ceiling, or COPY.
            JsonNode reference = root.get("reference");
            assertThat(reference.get("unit").asText()).isEqualTo(scenario.equals("lookup") ? "lookups/s" : "rows/s");
            assertThat(reference.get("per_s").asDouble()).isPositive();
            assertThat(reference.get("share").get("ferry").asDouble()).isEqualTo(
                    pools.get("ferry").get("throughput_per_s").asDouble() / reference.get("per_s").asDouble(),
                    org.assertj.core.data.Offset.offset(1e-9));
            assertThat(run.out()).contains("reference: " + (scenario.equals("lookup") ? "plain-JDBC ceiling" : "COPY"),
                    "ferry/reference: ");
            assertThat(pools.get("ferry").get("batched").asBoolean()).isTrue();
            assertThat(pools.get("hikari").get("batched").asBoolean()).isFalse();
            assertThat(pools.get("ferry").get("round_trips").asLong()).as("%s: batching saves round trips", scenario)
                    .isLessThan(pools.get("ferry").get("succeeded").asLong());
            assertThat(pools.get("hikari").get("round_trips").asLong()).isEqualTo(pools.get("hikari").get("succeeded").asLong());
            // The batcher's own figures, for the measured run only (the warm-up's 100 requests are not in them).
            JsonNode batch = pools.get("ferry").get("batch");
            assertThat(pools.get("hikari").has("batch")).isFalse();
            long batches = batch.get("batches").asLong();
            assertThat(batches).isPositive().isLessThanOrEqualTo(pools.get("ferry").get("round_trips").asLong());
            assertThat(batch.get("requests").asLong()).isEqualTo(pools.get("ferry").get("requests").asLong());
            assertThat(batch.get("requests_per_batch").asDouble()).isGreaterThan(1.0);
            long bySize = 0;
            for (JsonNode n : batch.get("batch_sizes")) {
                bySize += n.asLong();
            }
            long byReason = 0;
            for (JsonNode n : batch.get("flush_reasons")) {
                byReason += n.asLong();
            }
            assertThat(bySize).as("every batch has a size").isEqualTo(batches);
            assertThat(byReason).as("every batch has a reason").isEqualTo(batches);
            assertThat(run.out()).contains("ferry batching: " + batches + " batches");
        }
    }

    @Test
    void exhaustionMixesPrioritiesAndReportsEachWithTheReserve() throws Exception {
        Path json = dir.resolve("exhaustion.json");
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "exhaustion", "--clients", "120", "--warmup", "50",
                "--timeout-ms", "2000", "--reserve", "1", "--pools", "ferry,hikari", "--json", json.toString(),
                "--no-progress");
        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode pools = checkSchema(json, "exhaustion", List.of("ferry", "hikari")).get("pools");
        for (String pool : List.of("ferry", "hikari")) {
            JsonNode byPriority = pools.get(pool).get("by_priority");
            long requests = 0;
            long succeeded = 0;
            for (String priority : List.of("critical", "normal", "bulk")) {
                JsonNode b = byPriority.get(priority);
                assertThat(b).as("%s.by_priority.%s", pool, priority).isNotNull();
                for (String field : List.of("requests", "succeeded", "failed", "timeouts", "success_percent",
                        "latency_ms", "acquire_ms")) {
                    assertThat(b.has(field)).as("%s.%s.%s", pool, priority, field).isTrue();
                }
                requests += b.get("requests").asLong();
                succeeded += b.get("succeeded").asLong();
            }
            assertThat(requests).as("%s: priorities add up", pool).isEqualTo(pools.get(pool).get("requests").asLong());
            assertThat(succeeded).isEqualTo(pools.get(pool).get("succeeded").asLong());
            assertThat(pools.get(pool).has("reserve_uses")).isTrue();
        }
        assertThat(pools.get("hikari").get("reserve_uses").asLong()).isZero();
        assertThat(run.out()).contains("by priority", "critical", "bulk");
    }

    @Test
    void poolSpikeRunsHikariCPsSpikeTestOnTheStubDriverWithoutADatabase() throws Exception {
        Path json = dir.resolve("pool-spike.json");
        CliRun run = CliRun.of("load", "--scenario", "pool-spike", "--pools", "ferry,hikari", "--clients", "20",
                "--connect-ms", "40", "--query-ms", "1", "--min", "2", "--max", "20", "--repeat", "2",
                "--json", json.toString());
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("final size", "peak size", "acquire p99");
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.get("scenario").asText()).isEqualTo("pool-spike");
        assertThat(root.get("settings").get("ferry_sizing").asText()).isEqualTo("reactive");
        for (String pool : List.of("ferry", "hikari")) {
            JsonNode p = root.get("pools").get(pool);
            assertThat(p.get("requests").asLong()).isEqualTo(40); // 20 clients, one burst, 2 instances
            assertThat(p.get("failed").asLong()).isZero();
            int peak = p.get("peak_pool_size").asInt();
            assertThat(p.get("final_pool_size").asInt()).isBetween(2, peak);
            assertThat(peak).isBetween(2, 20);
            assertThat(p.get("connections_opened").asLong()).isGreaterThanOrEqualTo(2L * 2);
            JsonNode acquire = p.get("acquire_ms");
            assertThat(acquire.get("p50").asDouble()).isLessThanOrEqualTo(acquire.get("p99").asDouble());
            assertThat(acquire.get("p99").asDouble()).isLessThanOrEqualTo(acquire.get("max").asDouble());
        }
        // (Whether Ferry opened beyond its minimum here depends on scheduling; SizingTest shows the rule in fake
        // time, and the figures in README come from the full-size run.)
    }

    @Test
    void rampAndPeakDayTakeASizingPolicyAndSayWhichInTheirSettings() throws Exception {
        Path json = dir.resolve("peak-day.json");
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "peak-day", "--rates", "20,100,20", "--duration",
                "1", "--warmup", "0", "--pools", "ferry,hikari", "--sizing", "scheduled", "--json", json.toString(),
                "--no-progress");
        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode root = checkSchema(json, "peak-day", List.of("ferry", "hikari"));
        assertThat(root.get("settings").get("ferry_sizing").asText()).isEqualTo("scheduled");
        assertThat(root.get("pools").get("ferry").get("timeline").size()).isPositive();
    }

    @Test
    void calendarSizingOnAScenarioWithoutStepsIsOneLineAndExitTwo() {
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "spike", "--sizing", "forecast");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("--sizing: got 'forecast' for spike; allowed: scheduled and forecast only");
        CliRun unknown = CliRun.of("load", "--url", PG, "--scenario", "ramp", "--sizing", "magic");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("--sizing: got 'magic'; allowed: none, reactive, scheduled, forecast");
    }

    @Test
    void otherScenariosStillNeedAUrl() {
        CliRun run = CliRun.of("load", "--scenario", "spike");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("--url: missing");
    }

    @Test
    void aMixThatDoesNotAddUpIsOneLineAndExitTwo() {
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "exhaustion", "--mix", "5,80,10");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("--mix: got [5, 80, 10]; allowed: three percentages");
    }

    @Test
    void sustainedIsOpenLoop() throws Exception {
        Path json = dir.resolve("sustained.json");
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "sustained", "--rate", "200", "--duration", "2",
                "--warmup", "0", "--pools", "ferry", "--json", json.toString(), "--no-progress");
        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode ferry = checkSchema(json, "sustained", List.of("ferry")).get("pools").get("ferry");
        assertThat(ferry.get("requests").asLong()).as("arrivals follow the rate, not completions").isEqualTo(400);
    }

    /** Without a terminal (tests have none, as a log file has none) progress is plain lines, not redrawn frames. */
    @Test
    void withoutATerminalProgressIsAPlainLineEveryFewSeconds() {
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "sustained", "--rate", "100", "--duration", "6",
                "--warmup", "0", "--pools", "ferry");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out() + run.err()).doesNotContain("\r");
        List<String> progress = run.out().lines().filter(l -> l.matches("ferry\\s+\\d+%.*")).toList();
        assertThat(progress.get(progress.size() - 1)).as(run.out()).contains("600/600"); // the line at the end
        java.util.regex.Pattern count = java.util.regex.Pattern.compile("\\]\\s+(\\d+)/600");
        assertThat(progress).as("a line from the 5 s tick, between the start and the end").anySatisfy(l -> {
            java.util.regex.Matcher m = count.matcher(l);
            assertThat(m.find()).isTrue();
            assertThat(Long.parseLong(m.group(1))).isStrictlyBetween(1L, 600L); // the first line may read 1
        });
        assertThat(run.out()).contains("success", "failed");
    }

    /** Side by side, both pools measure from the same moment and one fault command runs once for both. */
    @Test
    void sideBySideRunsOneFaultForAllPools() throws Exception {
        Path json = dir.resolve("fault.json");
        Path marker = dir.resolve("fault-ran");
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "sustained", "--rate", "100", "--duration", "2",
                "--warmup", "200", "--pools", "ferry,hikari", "--side-by-side", "--no-progress",
                "--fault-command", "echo ran >> " + marker, "--fault-at", "0.5", "--json", json.toString());
        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("side by side", "fault: ran 'echo ran >> " + marker + "' 0.5 s into "
                + "ferry,hikari's run: exit 0");
        assertThat(Files.readAllLines(marker)).containsExactly("ran");
        JsonNode root = checkSchema(json, "sustained", List.of("ferry", "hikari"));
        assertThat(root.get("settings").get("fault_at_s").asDouble()).isEqualTo(0.5);
        // Each pool's connections are counted apart, though they ran at the same time.
        assertThat(root.get("pools").get("ferry").get("connections_opened").asLong()).isBetween(1L, 20L);
        assertThat(root.get("pools").get("hikari").get("connections_opened").asLong()).isBetween(1L, 20L);
    }

    @Test
    void chaosKillBackendsTerminatesBackendsDuringTheRunAndThePoolsCarryOn() throws Exception {
        Path json = dir.resolve("kill.json");
        Path report = dir.resolve("kill.html");
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "sustained", "--rate", "200", "--duration", "3",
                "--warmup", "200", "--pools", "ferry,hikari", "--side-by-side", "--no-progress",
                "--chaos", "kill-backends:300ms", "--fault-at", "0.5", "--timeout-ms", "2000", "--json",
                json.toString(), "--report", report.toString());
        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        long kills = run.out().lines().filter(l -> l.startsWith("fault: terminated backend")).count();
        long ferryKills = run.out().lines().filter(l -> l.startsWith("fault: terminated backend")
                && l.contains(" of pool ferry ")).count();
        assertThat(kills).as(run.out()).isGreaterThanOrEqualTo(3);
        JsonNode root = checkSchema(json, "sustained", List.of("ferry", "hikari"));
        assertThat(root.get("settings").get("chaos").asText()).isEqualTo("kill-backends:300ms");
        JsonNode ferry = root.get("pools").get("ferry");
        assertThat(ferry.get("succeeded").asLong()).as("Ferry carried on").isPositive();
        assertThat(ferry.get("failed").asLong()).as("at most one failed request per backend of Ferry's killed")
                .isLessThanOrEqualTo(ferryKills);
        // The report marks the fault on its charts over time, from the settings it embeds.
        String html = Files.readString(report);
        assertThat(html).contains("\"fault_at_s\":0.5", "\"chaos\":\"kill-backends:300ms\"", "faultHooks",
                "dashed grey line on the charts over time");
    }

    @Test
    void chaosRestartRestartsTheLocalClusterDuringTheRun() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(PG.contains("127.0.0.1") || PG.contains("localhost"),
                "--chaos restart needs a local cluster");
        Path json = dir.resolve("restart.json");
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "sustained", "--rate", "200", "--duration", "4",
                "--warmup", "200", "--pools", "ferry,hikari", "--side-by-side", "--no-progress",
                "--chaos", "restart", "--fault-at", "0.5", "--timeout-ms", "3000", "--json", json.toString());
        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).containsPattern("fault: ran 'pg_ctlcluster --skip-systemctl-redirect \\d+ main restart "
                + "-m fast' 0.5 s into ferry,hikari's run: exit 0");
        JsonNode root = checkSchema(json, "sustained", List.of("ferry", "hikari"));
        assertThat(root.get("settings").get("chaos").asText()).isEqualTo("restart");
    }

    @Test
    void chaosOptionsAreCheckedBeforeTheRun() {
        CliRun both = CliRun.of("load", "--url", PG, "--scenario", "spike", "--chaos", "restart", "--fault-command",
                "true");
        assertThat(both.exit()).isNotZero();
        assertThat(both.err()).contains("--chaos/--fault-command: got both");
        CliRun unknown = CliRun.of("load", "--url", PG, "--scenario", "spike", "--chaos", "unplug");
        assertThat(unknown.exit()).isNotZero();
        assertThat(unknown.err()).contains("--chaos: got 'unplug'").contains("kill-backends");
        CliRun badInterval = CliRun.of("load", "--url", PG, "--scenario", "spike", "--chaos", "kill-backends:soon");
        assertThat(badInterval.exit()).isNotZero();
        assertThat(badInterval.err()).contains("kill-backends:soon");
        CliRun named = CliRun.of("load", "--url", PG + "&ApplicationName=mine", "--scenario", "spike", "--chaos",
                "kill-backends");
        assertThat(named.exit()).isNotZero();
        assertThat(named.err()).contains("sets ApplicationName");
        CliRun promote = CliRun.of("load", "--url", PG, "--scenario", "spike", "--chaos", "promote");
        assertThat(promote.exit()).isNotZero();
        assertThat(promote.err()).contains("only with --scenario failover");
        CliRun negative = CliRun.of("load", "--url", PG, "--scenario", "spike", "--chaos", "kill-backends",
                "--fault-at", "-1");
        assertThat(negative.exit()).isNotZero();
        assertThat(negative.err()).contains("--fault-at: got -1");
        CliRun remote = CliRun.of("load", "--url", "jdbc:postgresql://db.example:5432/app", "--scenario", "spike",
                "--chaos", "restart");
        assertThat(remote.exit()).isNotZero();
        assertThat(remote.err()).contains("--chaos").contains("db.example").contains("this machine");
    }

    @Test
    void rampShowsEachStepsFigures() {
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "ramp", "--rates", "50,150", "--duration", "1",
                "--warmup", "0", "--pools", "ferry,hikari", "--no-progress");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("per step (1 s each)");
        assertThat(run.out().lines().filter(l -> l.startsWith("50 ") || l.startsWith("150 ")).count()).isEqualTo(2);
    }

    @Test
    void unknownScenarioIsOneLineAndExitTwo() {
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "nope");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err().strip()).isEqualTo("ferry: --scenario: unknown scenario 'nope'; allowed: spike, "
                + "sustained, ramp, peak-day, exhaustion, lookup, ingest");
    }

    @Test
    void negativeRateIsOneLineAndExitTwo() {
        CliRun run = CliRun.of("load", "--url", PG, "--scenario", "sustained", "--rate", "-5");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err().strip()).isEqualTo("ferry: --rate: got -5; allowed: a positive number");
    }

    @Test
    void unknownOptionIsOneLine() {
        CliRun run = CliRun.of("load", "--nope");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err().strip().lines().count()).isEqualTo(1);
        assertThat(run.err()).startsWith("ferry: ");
    }

    @Test
    void unreachableDatabaseIsOneLineWithoutAStackTrace() {
        CliRun run = CliRun.of("load", "--url", "jdbc:postgresql://127.0.0.1:1/test?user=postgres&password=hunter2",
                "--scenario", "spike");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err().strip()).startsWith("ferry: database error: Connection to 127.0.0.1:1 refused")
                .doesNotContain("\n", "\tat ", "hunter2");
    }

    @Test
    void badCredentialsAreOneLine() {
        CliRun run = CliRun.of("load", "--url", PG.replace("user=postgres", "user=ferry_no_such_role"),
                "--scenario", "spike");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err().strip()).startsWith("ferry: database error:").contains("ferry_no_such_role")
                .doesNotContain("\n");
    }

    @Test
    void verbosePrintsTheStackTrace() {
        CliRun run = CliRun.of("load", "--verbose", "--url", "jdbc:postgresql://127.0.0.1:1/test", "--scenario", "spike");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("\tat ");
    }

    /** --password-env reads the variable in a real process (a test cannot set its own environment). */
    @Test
    void passwordFromTheEnvironmentIsUsedAndNeverShown() throws Exception {
        Path json = dir.resolve("env.json");
        Path report = dir.resolve("env.html");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
                "dev.ferry.cli.FerryCommand", "load", "--url", PG, "--password-env", "FERRY_TEST_SECRET",
                "--scenario", "spike", "--clients", "20", "--warmup", "0", "--pools", "ferry,hikari,direct",
                "--json", json.toString(), "--report", report.toString(), "--no-progress")
                .redirectErrorStream(true);
        pb.environment().put("FERRY_TEST_SECRET", "s3cr3t-from-env");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(output).isZero();
        assertThat(output).doesNotContain("s3cr3t-from-env").contains("scenario spike");
        assertThat(Files.readString(json)).doesNotContain("s3cr3t-from-env");
        assertThat(Files.readString(report)).doesNotContain("s3cr3t-from-env");

        pb.environment().remove("FERRY_TEST_SECRET");
        Process missing = pb.start();
        String error = new String(missing.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(missing.waitFor()).isEqualTo(2);
        assertThat(error.strip()).isEqualTo("ferry: --password-env: environment variable FERRY_TEST_SECRET is not set");
    }

    @Test
    void passwordsNeverAppearInOutputJsonOrReport() throws Exception {
        Path json = dir.resolve("secret.json");
        Path report = dir.resolve("secret.html");
        // The server trusts loopback, so the password is accepted and ignored; it must still never be shown.
        String url = PG + (PG.contains("?") ? "&" : "?") + "password=hunter2secret";
        CliRun run = CliRun.of("load", "--url", url, "--scenario", "spike", "--clients", "20", "--warmup", "0",
                "--pools", "ferry,hikari", "--json", json.toString(), "--report", report.toString(), "--no-progress");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out() + run.err()).doesNotContain("hunter2secret").contains("password=****");
        assertThat(Files.readString(json)).doesNotContain("hunter2secret");
        assertThat(Files.readString(report)).doesNotContain("hunter2secret");
    }
}
