package dev.ferry.cli;

import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.Properties;

/**
 * {@code --chaos kill-backends[:interval]}: from {@code at} on, every {@code every}, terminates one backend of the
 * run's pools, chosen at random ({@code pg_terminate_backend}): only sessions whose application_name the run set
 * ({@link Target#APPLICATION_PREFIX}, which holds this process's id), never another application's or another
 * run's; a URL that sets its own ApplicationName is refused. It needs the right to signal them: a
 * superuser, a member of {@code pg_signal_backend}, or the role the pools connect as. Each kill is printed with its
 * time into the run, so the report's timeline can be read against it.
 */
final class BackendKiller implements FaultInjector {

    /** The pid is chosen in a subquery: a function in a sorted query's select list would run on every row. */
    private static final String KILL_ONE = "SELECT pid, application_name, pg_terminate_backend(pid) FROM (SELECT pid, "
            + "application_name FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            + "AND application_name LIKE '" + Target.APPLICATION_PREFIX + "%' ORDER BY random() LIMIT 1) one";

    private final String url;
    private final Properties credentials;
    private final Duration at;
    private final Duration every;

    BackendKiller(String url, Properties credentials, Duration at, Duration every) {
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("--chaos kill-backends: got --url " + dev.ferry.FerryConfig.maskUrl(url)
                    + "; allowed: a PostgreSQL URL (backends are terminated with pg_terminate_backend)");
        }
        if (Target.setsApplicationName(url)) {
            throw new IllegalArgumentException("--chaos kill-backends: got --url " + dev.ferry.FerryConfig.maskUrl(url)
                    + ", which sets ApplicationName; allowed: a URL without it (the run names its own sessions, so "
                    + "that only they are killed)");
        }
        if (every.toMillis() < 10) {
            throw new IllegalArgumentException("--chaos kill-backends: got an interval of " + every.toMillis()
                    + " ms; allowed: 10 ms or more");
        }
        this.url = url;
        this.credentials = credentials;
        this.at = at;
        this.every = every;
    }

    /** {@code kill-backends} or {@code kill-backends:<duration>}, the duration as 500ms, 2s or a number of seconds. */
    static Duration interval(String chaos) {
        int colon = chaos.indexOf(':');
        if (colon < 0) {
            return Duration.ofSeconds(1);
        }
        String v = chaos.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
        try {
            if (v.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            }
            double seconds = Double.parseDouble(v.endsWith("s") ? v.substring(0, v.length() - 1) : v);
            if (!Double.isFinite(seconds) || seconds > 86_400) {
                throw new NumberFormatException(v);
            }
            return Duration.ofMillis(Math.round(seconds * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--chaos: got '" + chaos + "'; allowed: kill-backends, "
                    + "kill-backends:<interval> (500ms, 2s), restart, or promote (failover)");
        }
    }

    @Override
    public Thread start(String pool, PrintStream out) {
        Thread t = new Thread(() -> {
            long start = System.nanoTime();
            int killed = 0;
            boolean warned = false;
            try (Connection c = DriverManager.getConnection(url, credentials); Statement s = c.createStatement()) {
                Thread.sleep(at.toMillis());
                while (!Thread.currentThread().isInterrupted()) {
                    try (ResultSet rs = s.executeQuery(KILL_ONE)) {
                        if (rs.next() && rs.getBoolean(3)) {
                            killed++;
                            String name = rs.getString(2);
                            out.printf(Locale.ROOT, "%nfault: terminated backend %d of pool %s %.1f s into %s's run "
                                            + "(%d so far)%n", rs.getInt(1),
                                    name.substring(Target.APPLICATION_PREFIX.length()),
                                    (System.nanoTime() - start) / 1e9, pool, killed);
                        } else if (!warned) {
                            warned = true;
                            out.printf(Locale.ROOT, "%nfault: no session of this run to terminate %.1f s into %s's "
                                    + "run (a pool with none open, or another ApplicationName)%n",
                                    (System.nanoTime() - start) / 1e9, pool);
                        }
                    }
                    Thread.sleep(every.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the run ended
            } catch (SQLException e) {
                out.println("fault: kill-backends stopped: " + e.getMessage());
            }
        }, "ferry-load-kill-backends");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
