package dev.ferry.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The same workload, many concurrent clients doing point lookups, done four ways: a new connection per request
 * (the "before"), HikariCP, Ferry, and Ferry with batching, all with the same pool size. It runs on an
 * embedded H2 database by default, so no server is needed, and writes the HTML report.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Compare no pool, HikariCP, Ferry and Ferry + batching on one workload (embedded H2 by default).")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--url", description = "JDBC URL (default: an embedded H2 database served over TCP on a free "
            + "loopback port, so every query and connection is a real round trip)")
    String url;

    @Option(names = "--clients", description = "concurrent clients (default: ${DEFAULT-VALUE})", defaultValue = "64")
    int clients;

    @Option(names = "--duration", description = "seconds measured per mode (default: ${DEFAULT-VALUE})",
            defaultValue = "3")
    int duration;

    @Option(names = "--pool-size", description = "pool size for the pools (default: ${DEFAULT-VALUE})",
            defaultValue = "8")
    int poolSize;

    @Option(names = "--report", description = "HTML report to write (default: ${DEFAULT-VALUE})",
            defaultValue = "ferry-demo.html")
    Path report;

    @Option(names = "--json", description = "also write the figures as JSON to this file")
    Path json;

    @Option(names = "--no-progress", description = "do not draw the progress bar")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        if (clients < 1 || duration < 1 || poolSize < 1) {
            throw new IllegalArgumentException("--clients, --duration and --pool-size must be at least 1 (got "
                    + clients + ", " + duration + ", " + poolSize + ")");
        }
        org.h2.tools.Server server = null;
        String target = url;
        if (target == null) {
            server = org.h2.tools.Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
            target = "jdbc:h2:tcp://127.0.0.1:" + server.getPort() + "/mem:ferrydemo;DB_CLOSE_DELAY=-1";
        }
        try {
            return run(target);
        } finally {
            if (server != null) {
                server.stop();
            }
        }
    }

    private int run(String url) throws Exception {
        Scenario demo = new Scenario("demo", Scenario.Shape.CLOSED, Scenario.Op.READ, clients, 0, List.of(),
                Duration.ofSeconds(duration), Duration.ZERO, poolSize, false, Scenario.ALL_NORMAL, 0, "none", -1, null);
        List<RunResult> results = LoadCommand.run(System.out, url, new Properties(), demo,
                List.of("direct", "hikari", "ferry", "ferry-batched"), false, 1, Duration.ofSeconds(30), 5000,
                !noProgress);
        SummaryTable.print(System.out, "demo: " + clients + " clients doing point lookups for " + duration + " s",
                results, "direct");
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("url", url.replaceFirst(";.*", ""));
        settings.put("clients", clients);
        settings.put("duration_s", duration);
        settings.put("pool_size", poolSize);
        settings.put("cores", Runtime.getRuntime().availableProcessors());
        settings.put("jdk", Runtime.version().toString());
        Map<String, Object> summary = JsonReport.toMap("demo", settings, results);
        HtmlReport.write(report, "ferry demo", summary, results);
        System.out.printf(Locale.ROOT, "wrote %s%n", report);
        if (json != null) {
            JsonReport.write(json, summary);
            System.out.printf(Locale.ROOT, "wrote %s%n", json);
        }
        return 0;
    }
}
