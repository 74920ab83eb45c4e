package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's main job: the demo runs on embedded H2, prints all four modes and writes the report. */
class DemoCommandTest {

    @TempDir
    Path dir;

    @Test
    void demoComparesAllModesAndWritesTheReport() throws Exception {
        Path report = dir.resolve("demo.html");
        Path json = dir.resolve("demo.json");
        CliRun run = CliRun.of("demo", "--clients", "8", "--duration", "1", "--pool-size", "2", "--no-progress",
                "--report", report.toString(), "--json", json.toString());
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("direct", "hikari", "ferry", "ferry-batched", "vs direct");
        String html = Files.readString(report);
        assertThat(html).contains("uPlot", "\"pools\"", "ferry-batched").doesNotContain("http://", "https://cdn");
        JsonNode pools = new ObjectMapper().readTree(json.toFile()).get("pools");
        assertThat(pools.get("direct").get("connections_opened").asLong())
                .as("one connection per request").isGreaterThanOrEqualTo(pools.get("direct").get("succeeded").asLong());
        assertThat(pools.get("ferry").get("peak_pool_size").asInt()).isBetween(1, 2);
        assertThat(pools.get("ferry-batched").get("batched").asBoolean()).isTrue();
    }

    @Test
    void invalidDemoArgumentsExitNonZeroWithOneLine() {
        CliRun run = CliRun.of("demo", "--clients", "0");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err().strip()).startsWith("ferry: --clients, --duration and --pool-size must be at least 1")
                .doesNotContain("\n");
    }
}
