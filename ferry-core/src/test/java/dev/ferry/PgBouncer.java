package dev.ferry;

import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

/**
 * A real PgBouncer (Debian's package; {@code .ci/run} installs it) in front of the test PostgreSQL, started on a
 * free loopback port for one test class and stopped after. PgBouncer refuses to run as root, so as root it is
 * started as the {@code postgres} user. Without PgBouncer the test is skipped, or fails with {@code CI=true}.
 */
final class PgBouncer implements AutoCloseable {

    static final Path BINARY = Path.of("/usr/sbin/pgbouncer");

    private final Process process;
    private final Path dir;
    final int port;

    private PgBouncer(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    /** Starts one in transaction pooling mode with {@code serverConnections} server connections to the database. */
    static PgBouncer start(int serverConnections) throws IOException, InterruptedException {
        if (!Files.isExecutable(BINARY)) {
            String message = "PgBouncer is not installed (" + BINARY + "); .ci/run installs Debian's pgbouncer";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(message + " (CI=true: missing is a failure)");
            }
            abort(message);
        }
        String url = Postgres.url();
        String hostPort = url.replaceFirst("^jdbc:postgresql://([^/]*)/.*$", "$1");
        String host = hostPort.contains(":") ? hostPort.substring(0, hostPort.indexOf(':')) : hostPort;
        String pgPort = hostPort.contains(":") ? hostPort.substring(hostPort.indexOf(':') + 1) : "5432";
        String database = url.replaceFirst("^jdbc:postgresql://[^/]*/", "").replaceFirst("[?].*$", "");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path dir = Files.createTempDirectory("ferry-pgbouncer");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(dir.resolve("userlist.txt"), "\"postgres\" \"\"\n");
        Files.writeString(dir.resolve("pgbouncer.ini"), String.join("\n",
                "[databases]",
                database + " = host=" + host + " port=" + pgPort + " dbname=" + database + " user=postgres",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                "listen_port = " + port,
                "unix_socket_dir =",
                "auth_type = trust",
                "auth_file = " + dir.resolve("userlist.txt"),
                "pool_mode = transaction",
                "default_pool_size = " + serverConnections,
                "max_client_conn = 500",
                "ignore_startup_parameters = extra_float_digits,options",
                "logfile = " + dir.resolve("pgbouncer.log"),
                "pidfile = " + dir.resolve("pgbouncer.pid"),
                ""));
        for (String f : new String[] {"userlist.txt", "pgbouncer.ini"}) {
            Files.setPosixFilePermissions(dir.resolve(f), PosixFilePermissions.fromString("rw-rw-rw-"));
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        ProcessBuilder pb = root
                ? new ProcessBuilder("runuser", "-u", "postgres", "--", BINARY.toString(), dir.resolve("pgbouncer.ini")
                        .toString())
                : new ProcessBuilder(BINARY.toString(), dir.resolve("pgbouncer.ini").toString());
        Process process = pb.redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return new PgBouncer(process, dir, port);
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    break;
                }
                Thread.sleep(50);
            }
        }
        process.destroy();
        throw new IOException("PgBouncer did not start: " + Files.readString(dir.resolve("stdout.log")));
    }

    /** A JDBC URL through PgBouncer, with extra parameters ({@code prepareThreshold=0}, ...). */
    String url(String parameters) {
        String database = Postgres.url().replaceFirst("^jdbc:postgresql://[^/]*/", "").replaceFirst("[?].*$", "");
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=postgres"
                + (parameters.isEmpty() ? "" : "&" + parameters);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
        try (var files = Files.walk(dir)) { // its config and logs (the directory is open to the postgres user)
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary directory: the system cleans it eventually
        }
    }
}
