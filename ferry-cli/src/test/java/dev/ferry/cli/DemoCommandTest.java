package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The README's main job: the demo runs on embedded H2 and prints all three modes. */
class DemoCommandTest {

    private static String run(int expectedExit, String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            int exit = new CommandLine(new FerryCommand()).execute(args);
            assertThat(exit).isEqualTo(expectedExit);
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void demoComparesAllThreeModesOnEmbeddedH2() {
        String out = run(0, "demo", "--clients", "8", "--requests", "20", "--pool-size", "2",
                "--url", "jdbc:h2:mem:demotest;DB_CLOSE_DELAY=-1");
        assertThat(out).contains("8 clients x 20 point lookups, pool size 2", "no pool", "HikariCP", "Ferry");
        // The no-pool mode opens one connection per request; each pool at most its size.
        assertThat(out.lines().filter(l -> l.startsWith("no pool")).findFirst().orElseThrow()).contains(" 160 ");
        String ferry = out.lines().filter(l -> l.startsWith("Ferry")).findFirst().orElseThrow();
        long ferryConnections = Long.parseLong(ferry.trim().split("\\s+")[5]);
        assertThat(ferryConnections).isBetween(1L, 2L);
    }

    @Test
    void invalidArgumentsExitNonZero() {
        assertThat(new CommandLine(new FerryCommand()).execute("demo", "--clients", "0")).isEqualTo(2);
        assertThat(new CommandLine(new FerryCommand()).execute("demo", "--nope")).isEqualTo(2);
    }
}
