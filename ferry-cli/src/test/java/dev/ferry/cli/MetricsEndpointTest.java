package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry load --metrics-port} on real PostgreSQL: the scrape has the documented series, every query of the
 * shipped Grafana dashboard names a metric in it, and a real Prometheus (Debian's {@code prometheus}, which
 * {@code .ci/run} installs) scraping the run answers every one of those queries with data.
 */
class MetricsEndpointTest {

    static final Path DASHBOARD = Path.of("..", "docs", "grafana", "ferry.json");
    private static final Pattern METRIC = Pattern.compile("\\b((?:ferry|hikaricp)_[a-z0-9_]+)");
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dir;

    @Test
    void aRunServesTheMetricsEveryDashboardQueryNeeds() throws Exception {
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        boolean hasPrometheus = Files.isExecutable(Path.of("/usr/bin/prometheus"));
        if (ci) {
            assertThat(hasPrometheus).as("CI installs Debian's prometheus (.ci/run)").isTrue();
        }
        int port = freePort();
        ExecutorService background = Executors.newSingleThreadExecutor();
        Process prometheus = null;
        try {
            Future<CliRun> run = background.submit(() -> CliRun.of("load", "--url", LoadCommandTest.PG, "--scenario",
                    "lookup", "--clients", "40", "--duration", "14", "--warmup", "0", "--pools", "ferry,hikari",
                    "--side-by-side", "--metrics-port", String.valueOf(port), "--no-progress"));
            int promPort = freePort();
            if (hasPrometheus) {
                prometheus = startPrometheus(port, promPort);
            }
            String scrape = awaitScrape(port, run);
            Set<String> names = names(scrape);
            assertThat(names).contains("ferry_connections_active", "ferry_connections_pending",
                    "ferry_connections_acquire_seconds_bucket", "ferry_connections_acquire_seconds_count",
                    "ferry_batch_requests_total", "ferry_batch_round_trips_total", "ferry_batch_size_bucket",
                    "ferry_statements_seconds_count", "ferry_statements_top_mean_seconds",
                    "hikaricp_connections_active");
            assertThat(scrape).contains("ferry_connections_active{pool=\"ferry\"}")
                    .doesNotContain("password");

            List<String> queries = dashboardQueries();
            assertThat(queries).hasSizeGreaterThan(20);
            for (String q : queries) {
                Matcher m = METRIC.matcher(q);
                boolean any = false;
                while (m.find()) {
                    any = true;
                    assertThat(names).as("query %s", q).contains(m.group(1));
                }
                assertThat(any).as("query %s names a metric", q).isTrue();
            }

            if (prometheus != null) {
                Map<String, String> answers = askPrometheus(promPort, queries, run);
                StringBuilder report = new StringBuilder("# Every dashboard query, answered by Prometheus during a "
                        + "`ferry load --scenario lookup --side-by-side --pools ferry,hikari` run\n\n");
                answers.forEach((q, a) -> report.append("- `").append(q).append("`\n  → ").append(a).append('\n'));
                Files.writeString(Path.of("target", "dashboard-queries.md"), report);
            } else {
                assumeTrue(false, "Debian's prometheus is not installed here: the queries were checked against the "
                        + "scrape only");
            }
            CliRun finished = run.get(60, TimeUnit.SECONDS);
            assertThat(finished.exit()).as(finished.err()).isZero();
            assertThat(finished.out()).contains("ferry load: metrics at http://127.0.0.1:" + port + "/metrics");
        } finally {
            background.shutdownNow();
            if (prometheus != null) {
                prometheus.destroy();
                prometheus.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aBadPortIsRefused() {
        CliRun run = CliRun.of("load", "--url", LoadCommandTest.PG, "--scenario", "spike", "--metrics-port", "0");
        assertThat(run.exit()).isNotZero();
        assertThat(run.err()).contains("--metrics-port: got 0; allowed: 1 to 65535");
    }

    static List<String> dashboardQueries() throws IOException {
        JsonNode root = new ObjectMapper().readTree(DASHBOARD.toFile());
        List<String> out = new ArrayList<>();
        for (JsonNode panel : root.get("panels")) {
            JsonNode targets = panel.get("targets");
            if (targets != null) {
                for (JsonNode t : targets) {
                    out.add(t.get("expr").asText());
                }
            }
        }
        return out;
    }

    /** Metric names in a Prometheus text scrape. */
    static Set<String> names(String scrape) {
        Set<String> names = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int end = 0;
            while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
                end++;
            }
            names.add(line.substring(0, end));
        }
        return names;
    }

    private String awaitScrape(int port, Future<CliRun> run) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "";
        while (System.nanoTime() < deadline) {
            if (run.isDone()) {
                CliRun r = run.get();
                throw new AssertionError("the run ended before its metrics were complete: " + r.err() + "\n" + last);
            }
            try {
                last = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                if (last.contains("ferry_batch_requests_total") && last.contains("ferry_statements_top_mean_seconds")
                        && last.contains("hikaricp_connections_active")) {
                    return last;
                }
            } catch (IOException notYet) {
                // the endpoint starts with the run
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no complete scrape within 60 s; last:\n" + last);
    }

    private Process startPrometheus(int target, int listen) throws IOException {
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
                + "  - job_name: ferry\n    static_configs:\n      - targets: ['127.0.0.1:" + target + "']\n");
        return new ProcessBuilder("/usr/bin/prometheus", "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + listen)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
    }

    /** Waits for enough samples, then asks Prometheus every query; each must return at least one series. */
    private Map<String, String> askPrometheus(int port, List<String> queries, Future<CliRun> run) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Map<String, String> answers = new LinkedHashMap<>();
        List<String> empty = new ArrayList<>();
        while (System.nanoTime() < deadline && !run.isDone()) {
            answers.clear();
            empty.clear();
            for (String q : queries) {
                String promql = q.replace("$__rate_interval", "10s").replace("$pool", ".*").replace("$batcher", ".*");
                JsonNode answer = query(port, promql);
                JsonNode result = answer == null ? null : answer.path("data").path("result");
                if (result == null || !"success".equals(answer.path("status").asText()) || result.isEmpty()) {
                    empty.add(promql);
                } else {
                    answers.put(promql, summary(result));
                }
            }
            if (empty.isEmpty()) {
                return answers;
            }
            Thread.sleep(1_000);
        }
        throw new AssertionError("Prometheus returned no data for: " + empty + "\n(log: "
                + Files.readString(dir.resolve("prometheus.log")).lines().reduce("", (a, b) -> b) + ")");
    }

    private JsonNode query(int port, String promql) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8))).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new ObjectMapper().readTree(r.body());
        } catch (IOException notUp) {
            return null;
        }
    }

    private static String summary(JsonNode result) {
        List<String> parts = new ArrayList<>();
        for (JsonNode series : result) {
            JsonNode metric = series.get("metric");
            List<String> labels = new ArrayList<>();
            metric.fields().forEachRemaining(e -> labels.add(e.getKey() + "=" + e.getValue().asText()));
            parts.add("{" + String.join(", ", labels) + "} " + series.get("value").get(1).asText());
            if (parts.size() == 3) {
                parts.add("... (" + result.size() + " series)");
                break;
            }
        }
        return String.join("; ", parts);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
