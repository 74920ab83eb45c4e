package dev.ferry.cli;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import dev.ferry.FerryListener;
import dev.ferry.PoolEvent;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * {@code ferry load --scenario failover}: a mixed load on a PostgreSQL primary and its streaming replica, through
 * Ferry ({@code reads()} for reads, failover for writes) and, at the same moment, HikariCP on pgjdbc's multi-host
 * URL with {@code targetServerType=primary} (what a HikariCP user has today), while the primary fails and the
 * replica is promoted: by the user (their cluster manager) during the run, or by {@code --chaos promote} where both
 * servers are clusters on this machine ({@code pg_lsclusters}): the primary's is stopped at once ({@code -m
 * immediate}, as a crash), and a second later the replica's is promoted.
 *
 * <p>Half the clients write (one insert per transaction, each with its own id), half read. Reported per pool and
 * operation: the failed operations and the longest time without a success (the outage; from the fault on with
 * {@code --chaos}, over the whole run without, since the fault's time is then unknown), a
 * per-second timeline, and the writes acknowledged, failed and of unknown outcome; after the run every acknowledged
 * id is looked up on whichever host is the primary then, and those missing are counted (with a synchronous replica,
 * zero).
 */
final class FailoverRun {

    static final String TABLE = "ferry_failover_writes";
    private static final Pattern PG_URL = Pattern.compile("^jdbc:postgresql://([^/?]+)/([^?]*)(\\?(.*))?$");

    record Settings(String primaryUrl, String replicaUrl, Properties credentials, List<String> pools, int clients,
                    Duration duration, Duration timeout, boolean chaos, Duration faultAt) {
    }

    /** One pool's figures. */
    static final class PoolRun {
        final String pool;
        final AtomicLongArray writesOk;
        final AtomicLongArray writesFailed;
        final AtomicLongArray readsOk;
        final AtomicLongArray readsFailed;
        final AtomicLong lastWriteOk = new AtomicLong(Long.MIN_VALUE);
        final AtomicLong lastReadOk = new AtomicLong(Long.MIN_VALUE);
        final AtomicLong writeGap = new AtomicLong();
        final AtomicLong readGap = new AtomicLong();
        final LongAdder acked = new LongAdder();
        final LongAdder failed = new LongAdder();
        final LongAdder unknown = new LongAdder();
        final Set<Long> ackedIds = ConcurrentHashMap.newKeySet();
        /** Gaps count from here (nanoTime): the fault with --chaos, else the start. */
        volatile long gapsFrom;
        volatile long missing = -1;
        volatile String failoverEvent;

        PoolRun(String pool, int seconds) {
            this.pool = pool;
            this.writesOk = new AtomicLongArray(seconds + 1);
            this.writesFailed = new AtomicLongArray(seconds + 1);
            this.readsOk = new AtomicLongArray(seconds + 1);
            this.readsFailed = new AtomicLongArray(seconds + 1);
        }
    }

    private FailoverRun() {
    }

    static List<PoolRun> run(PrintStream out, Settings s) throws Exception {
        Matcher p = parse("--url", s.primaryUrl());
        Matcher r = parse("--replica", s.replicaUrl());
        int seconds = (int) s.duration().toSeconds();
        out.printf(Locale.ROOT, "ferry load: scenario failover, primary %s, replica %s, pools %s side by side, %d "
                        + "clients (half write, half read), %d s, connectionTimeout %d ms, %s, %d cores%n",
                FerryConfig.maskUrl(s.primaryUrl()), FerryConfig.maskUrl(s.replicaUrl()), String.join(",", s.pools()),
                s.clients(), seconds, s.timeout().toMillis(), s.chaos() ? "--chaos promote at " + s.faultAt().toSeconds()
                        + " s" : "no chaos: promote the replica yourself during the run", Runtime.getRuntime()
                        .availableProcessors());
        Chaos chaos = s.chaos() ? Chaos.find(hostPort(p), hostPort(r)) : null; // before connecting: fails fast
        createTable(s);
        AtomicLong ids = new AtomicLong(System.currentTimeMillis() * 1000);
        List<PoolRun> runs = new ArrayList<>();
        List<AutoCloseable> closing = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        long start = System.nanoTime();
        try {
            for (String pool : s.pools()) {
                PoolRun run = new PoolRun(pool, seconds);
                run.gapsFrom = s.chaos() ? start + s.faultAt().toNanos() : start;
                runs.add(run);
                DataSource writes;
                DataSource reads;
                if (pool.equals("ferry")) {
                    FerryConfig.Builder b = FerryConfig.builder().jdbcUrl(s.primaryUrl()).replica(s.replicaUrl());
                    if (s.credentials().getProperty("user") != null) {
                        b.username(s.credentials().getProperty("user"));
                    }
                    if (s.credentials().getProperty("password") != null) {
                        b.password(s.credentials().getProperty("password"));
                    }
                    FerryDataSource ds = new FerryDataSource(b.poolName("ferry")
                            .maximumPoolSize(Math.max(2, s.clients() / 2)).connectionTimeout(s.timeout())
                            .initializationFailTimeout(Duration.ofMillis(-1))
                            .listener(new FerryListener() {
                                @Override
                                public void failover(PoolEvent.Failover e) {
                                    run.failoverEvent = e.from() + " -> " + e.to() + " after " + e.outage().toMillis()
                                            + " ms";
                                }
                            }).build());
                    closing.add(ds);
                    writes = ds;
                    reads = ds.reads();
                } else if (pool.equals("hikari")) {
                    HikariConfig c = new HikariConfig();
                    c.setJdbcUrl(multiHost(p, r));
                    c.setDataSourceProperties(s.credentials());
                    c.setPoolName("hikari");
                    c.setMaximumPoolSize(Math.max(2, s.clients() / 2));
                    c.setConnectionTimeout(s.timeout().toMillis());
                    c.setInitializationFailTimeout(-1);
                    HikariDataSource ds = new HikariDataSource(c);
                    closing.add(ds);
                    writes = ds;
                    reads = ds;
                } else {
                    throw new IllegalArgumentException("--pools: got '" + pool + "' for failover; allowed: ferry, hikari");
                }
                for (int i = 0; i < s.clients(); i++) {
                    boolean writer = i % 2 == 0;
                    Thread t = new Thread(() -> {
                        while (!stop.get()) {
                            if (writer) {
                                write(writes, ids.incrementAndGet(), run, start);
                            } else {
                                read(reads, run, start);
                            }
                        }
                    }, pool + (writer ? "-writer-" : "-reader-") + i);
                    t.setDaemon(true);
                    t.start();
                    threads.add(t);
                }
            }
            long faultAt = start + s.faultAt().toNanos();
            long end = start + s.duration().toNanos();
            boolean faulted = false;
            int lastSecond = -1;
            while (System.nanoTime() < end) {
                long now = System.nanoTime();
                if (chaos != null && !faulted && now >= faultAt) {
                    faulted = true;
                    out.printf(Locale.ROOT, "  %5.1fs  chaos: stopping the primary (%s, -m immediate)%n",
                            (now - start) / 1e9, chaos.primaryCluster);
                    chaos.stopPrimary();
                    Thread.sleep(1000);
                    out.printf(Locale.ROOT, "  %5.1fs  chaos: promoting the replica (%s)%n",
                            (System.nanoTime() - start) / 1e9, chaos.replicaCluster);
                    chaos.promoteReplica();
                    out.printf(Locale.ROOT, "  %5.1fs  chaos: the replica is a primary%n",
                            (System.nanoTime() - start) / 1e9);
                }
                int second = (int) ((now - start) / 1_000_000_000L);
                if (second != lastSecond && second > 0) {
                    lastSecond = second;
                    out.print(timelineLine(runs, second - 1));
                }
                Thread.sleep(50);
            }
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                t.join(s.timeout().toMillis() + 5000);
            }
            for (AutoCloseable c : closing) {
                c.close();
            }
        }
        for (PoolRun run : runs) {
            run.missing = missing(s, run);
        }
        print(out, runs, chaos != null);
        return runs;
    }

    private static String timelineLine(List<PoolRun> runs, int second) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "  %4ds ", second + 1));
        for (PoolRun run : runs) {
            b.append(String.format(Locale.ROOT, "  %s writes %5d ok %4d failed, reads %6d ok %4d failed", run.pool,
                    run.writesOk.get(second), run.writesFailed.get(second), run.readsOk.get(second),
                    run.readsFailed.get(second)));
        }
        return b.append('\n').toString();
    }

    private static void print(PrintStream out, List<PoolRun> runs, boolean fromFault) {
        out.println();
        out.printf(Locale.ROOT, "%-8s %10s %10s %14s %10s %10s %14s %8s %8s %8s %8s%n", "pool", "writes ok",
                "failed", "longest gap", "reads ok", "failed", "longest gap", "acked", "failed", "unknown",
                "missing");
        for (PoolRun run : runs) {
            out.printf(Locale.ROOT, "%-8s %10d %10d %11d ms %10d %10d %11d ms %8d %8d %8d %8s%n", run.pool,
                    sum(run.writesOk), sum(run.writesFailed), ms(run.writeGap.get()), sum(run.readsOk),
                    sum(run.readsFailed), ms(run.readGap.get()), run.acked.sum(), run.failed.sum(),
                    run.unknown.sum(), run.missing < 0 ? "?" : Long.toString(run.missing));
            if (run.failoverEvent != null) {
                out.println("         Ferry's failover event: " + run.failoverEvent);
            }
        }
        out.println("longest gap: the longest time without a successful operation of that kind, "
                + (fromFault ? "from the fault on" : "over the whole run") + "; missing: "
                + "acknowledged writes not on the primary after the run; unknown: commits cut off by the failure "
                + "(Ferry: SQLState 08007)");
    }

    static Map<String, Object> toMap(Settings s, List<PoolRun> runs) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("scenario", "failover");
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("primary", FerryConfig.maskUrl(s.primaryUrl()));
        settings.put("replica", FerryConfig.maskUrl(s.replicaUrl()));
        settings.put("clients", s.clients());
        settings.put("duration_s", s.duration().toSeconds());
        settings.put("connection_timeout_ms", s.timeout().toMillis());
        settings.put("chaos", s.chaos() ? "promote" : "none");
        settings.put("fault_at_s", s.faultAt().toMillis() / 1000.0);
        settings.put("cores", Runtime.getRuntime().availableProcessors());
        root.put("settings", settings);
        Map<String, Object> pools = new LinkedHashMap<>();
        for (PoolRun run : runs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("writes_ok", sum(run.writesOk));
            m.put("writes_failed", sum(run.writesFailed));
            m.put("write_longest_gap_ms", ms(run.writeGap.get()));
            m.put("reads_ok", sum(run.readsOk));
            m.put("reads_failed", sum(run.readsFailed));
            m.put("read_longest_gap_ms", ms(run.readGap.get()));
            m.put("acked", run.acked.sum());
            m.put("failed", run.failed.sum());
            m.put("outcome_unknown", run.unknown.sum());
            m.put("acked_missing", run.missing);
            m.put("failover_event", run.failoverEvent);
            pools.put(run.pool, m);
        }
        root.put("pools", pools);
        return root;
    }

    /** One insert in its own transaction: acknowledged only when commit returned. */
    private static void write(DataSource ds, long id, PoolRun run, long start) {
        Connection c;
        try {
            c = ds.getConnection();
        } catch (SQLException | RuntimeException e) {
            record(run, id, "failed", start);
            pause();
            return;
        }
        String result = "failed"; // until commit returns: an error before it leaves the transaction rolled back
        try {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + TABLE + " (id, pool) VALUES (?, ?)")) {
                ps.setLong(1, id);
                ps.setString(2, run.pool);
                ps.executeUpdate();
            }
            try {
                c.commit();
                result = "acked";
            } catch (SQLException e) {
                // Ferry says 08007 when the commit's outcome is unknown; another pool's user can only guess from a
                // connection error
                result = "08007".equals(e.getSQLState()) || !run.pool.equals("ferry") && isConnectionError(e)
                        ? "unknown" : "failed";
            }
        } catch (SQLException | RuntimeException e) {
            result = "failed";
        } finally {
            try {
                c.close();
            } catch (SQLException | RuntimeException ignored) {
                // the outcome is decided
            }
        }
        record(run, id, result, start);
        if (!result.equals("acked")) {
            pause();
        }
    }

    private static boolean isConnectionError(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("08");
    }

    private static void record(PoolRun run, long id, String result, long start) {
        long now = System.nanoTime();
        int second = second(run, now, start);
        switch (result) {
            case "acked" -> {
                run.acked.increment();
                run.ackedIds.add(id);
                run.writesOk.incrementAndGet(second);
                gap(run.lastWriteOk, run.writeGap, now, run.gapsFrom);
            }
            case "unknown" -> {
                run.unknown.increment();
                run.writesFailed.incrementAndGet(second);
            }
            default -> {
                run.failed.increment();
                run.writesFailed.incrementAndGet(second);
            }
        }
    }

    private static void read(DataSource ds, PoolRun run, long start) {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM " + TABLE + " WHERE id % 1000 = 7")) {
            rs.next();
            long now = System.nanoTime();
            run.readsOk.incrementAndGet(second(run, now, start));
            gap(run.lastReadOk, run.readGap, now, run.gapsFrom);
        } catch (SQLException | RuntimeException e) {
            run.readsFailed.incrementAndGet(second(run, System.nanoTime(), start));
            pause();
        }
    }

    private static int second(PoolRun run, long now, long start) {
        return (int) Math.min(run.writesOk.length() - 1, Math.max(0, (now - start) / 1_000_000_000L));
    }

    /**
     * Keeps the longest time between successes from {@code from} on: the gap a success closes counts from the
     * success before it, or from {@code from} if that came earlier. Successes before {@code from} only move the mark.
     */
    private static void gap(AtomicLong last, AtomicLong longest, long now, long from) {
        long before = last.getAndAccumulate(now, Math::max);
        if (now - from < 0) {
            return;
        }
        long since = now - (before == Long.MIN_VALUE || before - from < 0 ? from : before);
        if (since > 0) {
            longest.accumulateAndGet(since, Math::max);
        }
    }

    private static void pause() {
        try {
            Thread.sleep(20); // a client backing off, not a busy loop against a server that is down
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void createTable(Settings s) throws SQLException {
        try (Connection c = DriverManager.getConnection(s.primaryUrl(), s.credentials());
             Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id bigint PRIMARY KEY, pool text NOT NULL)");
        }
    }

    /** Acknowledged ids not on whichever host is the primary now; -1 if no host answers as one. */
    private static long missing(Settings s, PoolRun run) throws SQLException {
        for (String url : List.of(s.replicaUrl(), s.primaryUrl())) {
            try (Connection c = DriverManager.getConnection(url, s.credentials()); Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        continue;
                    }
                }
                Set<Long> present = new HashSet<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + TABLE + " WHERE pool = ?")) {
                    ps.setString(1, run.pool);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            present.add(rs.getLong(1));
                        }
                    }
                }
                return run.ackedIds.stream().filter(id -> !present.contains(id)).count();
            } catch (SQLException e) {
                // down: try the other
            }
        }
        return -1;
    }

    private static Matcher parse(String option, String url) {
        Matcher m = PG_URL.matcher(url == null ? "" : url);
        if (!m.matches()) {
            throw new IllegalArgumentException(option + ": got " + (url == null ? "nothing" : FerryConfig.maskUrl(url))
                    + "; allowed: a PostgreSQL JDBC URL jdbc:postgresql://host:port/database (failover)");
        }
        return m;
    }

    private static String hostPort(Matcher m) {
        return m.group(1);
    }

    /** pgjdbc's multi-host URL for HikariCP: both hosts, the primary chosen at connect time. */
    static String multiHost(Matcher primary, Matcher replica) {
        String query = primary.group(4);
        return "jdbc:postgresql://" + primary.group(1) + "," + replica.group(1) + "/" + primary.group(2) + "?"
                + (query == null || query.isEmpty() ? "" : query + "&") + "targetServerType=primary";
    }

    private static long sum(AtomicLongArray a) {
        long n = 0;
        for (int i = 0; i < a.length(); i++) {
            n += a.get(i);
        }
        return n;
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** The two local clusters behind the URLs, found with pg_lsclusters by port. */
    static final class Chaos {
        final String version;
        final String primaryCluster;
        final String replicaCluster;

        private Chaos(String version, String primaryCluster, String replicaCluster) {
            this.version = version;
            this.primaryCluster = primaryCluster;
            this.replicaCluster = replicaCluster;
        }

        static Chaos find(String primaryHostPort, String replicaHostPort) throws IOException, InterruptedException {
            String[] primary = cluster(primaryHostPort, "--url");
            String[] replica = cluster(replicaHostPort, "--replica");
            if (!primary[0].equals(replica[0])) {
                throw new IllegalArgumentException("--chaos promote: the primary is PostgreSQL " + primary[0]
                        + " and the replica " + replica[0] + "; allowed: two clusters of one version");
            }
            return new Chaos(primary[0], primary[1], replica[1]);
        }

        /** {version, cluster} of the local cluster on that host's port. */
        static String[] cluster(String hostPort, String option) throws IOException, InterruptedException {
            String host = hostPort.contains(":") ? hostPort.substring(0, hostPort.lastIndexOf(':')) : hostPort;
            String port = hostPort.contains(":") ? hostPort.substring(hostPort.lastIndexOf(':') + 1) : "5432";
            if (!Set.of("127.0.0.1", "localhost", "::1", "[::1]").contains(host)) {
                throw new IllegalArgumentException("--chaos: " + option + " is on " + host + "; allowed: "
                        + "servers on this machine (127.0.0.1 or localhost), whose clusters pg_ctlcluster can stop "
                        + "and promote");
            }
            String listing = command(List.of("pg_lsclusters", "--no-header"));
            for (String line : listing.split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 3 && f[2].equals(port)) {
                    return new String[] {f[0], f[1]};
                }
            }
            throw new IllegalArgumentException("--chaos: no cluster on port " + port + " in pg_lsclusters ("
                    + option + "); allowed: clusters on this machine (without --chaos, bring the fault on yourself)");
        }

        void stopPrimary() throws IOException, InterruptedException {
            command(List.of("pg_ctlcluster", "--skip-systemctl-redirect", version, primaryCluster, "stop", "-m",
                    "immediate"));
        }

        void promoteReplica() throws IOException, InterruptedException {
            command(List.of("pg_ctlcluster", "--skip-systemctl-redirect", version, replicaCluster, "promote"));
        }

        private static String command(List<String> command) throws IOException, InterruptedException {
            Path log = Files.createTempFile("ferry-chaos", ".log"); // not a pipe: a server may inherit it
            try {
                Process p;
                try {
                    p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                } catch (IOException e) {
                    throw new IllegalArgumentException("--chaos: cannot run " + command.get(0) + " ("
                            + e.getMessage() + "); allowed: a machine with PostgreSQL's cluster tools (Debian's "
                            + "postgresql-common)", e);
                }
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IOException(String.join(" ", command) + " did not finish in 60 s");
                }
                String out = Files.readString(log, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new IOException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + out);
                }
                return out;
            } finally {
                Files.deleteIfExists(log);
            }
        }
    }
}
