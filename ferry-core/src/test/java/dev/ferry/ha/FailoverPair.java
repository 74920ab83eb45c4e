package dev.ferry.ha;

import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL primary and its synchronous streaming replica of their own ({@code .ci/pg-failover-pair}: clusters
 * failover_a on 127.0.0.1:5434 and failover_b on 127.0.0.1:5435), made afresh for each failover run, since the run
 * stops the primary and promotes the replica. Needs root and Debian's PostgreSQL cluster tools; without them the
 * test is skipped, or fails with {@code CI=true}.
 */
final class FailoverPair implements AutoCloseable {

    static final String PRIMARY_URL = "jdbc:postgresql://127.0.0.1:5434/test?user=postgres&connectTimeout=2";
    static final String REPLICA_URL = "jdbc:postgresql://127.0.0.1:5435/test?user=postgres&connectTimeout=2";

    private final Path script;
    private final String version;

    private FailoverPair(Path script, String version) {
        this.script = script;
        this.version = version;
    }

    /** Creates the pair from scratch. */
    static FailoverPair up() throws IOException, InterruptedException {
        Path script = findScript();
        Path clusters = Path.of("/etc/postgresql");
        boolean root = "root".equals(System.getProperty("user.name"));
        if (script == null || !Files.isDirectory(clusters) || !root
                || !Files.isExecutable(Path.of("/usr/bin/pg_ctlcluster"))) {
            String message = "the failover test needs root and Debian's PostgreSQL cluster tools (pg_createcluster, "
                    + "pg_ctlcluster) and .ci/pg-failover-pair; found script=" + script + ", root=" + root;
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(message + " (CI=true: missing is a failure)");
            }
            abort(message);
        }
        String version;
        try (Stream<Path> versions = Files.list(clusters)) {
            version = versions.map(p -> p.getFileName().toString()).filter(n -> n.matches("\\d+"))
                    .max(Comparator.comparingInt(Integer::parseInt)).orElseThrow();
        }
        FailoverPair pair = new FailoverPair(script, version);
        pair.run(List.of("bash", script.toString(), version, "up"), 120);
        return pair;
    }

    /** Stops the primary at once, as a crash would ({@code pg_ctlcluster ... stop -m immediate}). */
    void stopPrimary() throws IOException, InterruptedException {
        run(List.of("pg_ctlcluster", "--skip-systemctl-redirect", version, "failover_a", "stop", "-m", "immediate"),
                60);
    }

    /** Promotes the replica; returns once it is a primary ({@code pg_ctl promote} waits by default). */
    void promoteReplica() throws IOException, InterruptedException {
        run(List.of("pg_ctlcluster", "--skip-systemctl-redirect", version, "failover_b", "promote"), 60);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run(List.of("bash", script.toString(), version, "down"), 60);
    }

    private void run(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        // Output to a file, not a pipe: a server started by the command could hold a pipe open for its lifetime.
        Path log = Files.createTempFile("ferry-failover-pair", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(command + " did not finish in " + timeoutSeconds + "s: " + Files.readString(log));
            }
            if (p.exitValue() != 0) {
                throw new IOException(command + " failed (" + p.exitValue() + "): "
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static Path findScript() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path s = dir.resolve(".ci/pg-failover-pair");
            if (Files.isRegularFile(s)) {
                return s;
            }
        }
        return null;
    }
}
