package dev.ferry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * A password and secret driver properties, set the ways a user sets them (the password setting, the URL, a driver
 * property, a {@code Properties} object, a replica's URL, a bean's setters), never show in what Ferry writes or
 * shows, across errors driven on purpose: the log as the tests run it (INFO and above, captured from
 * {@code System.err}; DEBUG lines are not produced here), {@code toString} of the data source, its configuration and
 * its pool, every JMX attribute, every metric call, every event heard by the first pool's listener, and every
 * message in the chain of every exception thrown to the caller. One secret has the characters that end a URL
 * parameter or a masked value ({@code & ; , ) @}), so a value masked only in part would show. Not driven here: a
 * failed password authentication (the test server trusts loopback connections).
 */
class PostgresSecretsTest {

    static final String SECRET = "S3cr3t-Ferry-42";
    /** Not in a URL (it would need escaping there): in the password setting and the driver properties. */
    static final String ODD_SECRET = "0dd&Se;cr,et)@42";

    /** Everything seen, to be searched for the secret at the end. */
    private final List<String> seen = new ArrayList<>();

    private void see(Object o) {
        seen.add(String.valueOf(o));
    }

    private void seeChain(Throwable t) {
        for (Throwable x = t; x != null; x = x.getCause()) {
            see(x.toString());
            for (Throwable s : x.getSuppressed()) {
                seeChain(s);
            }
            if (x instanceof java.sql.SQLException sql && sql.getNextException() != null) {
                seeChain(sql.getNextException());
            }
        }
    }

    @Test
    void noSecretShowsAnywhereAcrossErrors() throws Exception {
        PrintStream originalErr = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new Tee(originalErr, log), true, StandardCharsets.UTF_8));
        try {
            drive();
        } finally {
            System.setErr(originalErr);
        }
        String logged = log.toString(StandardCharsets.UTF_8);
        assertThat(logged).as("the log was captured").contains("ferry-secrets");
        see(logged);
        assertThat(seen).hasSizeGreaterThan(20);
        for (String s : seen) {
            assertThat(s).as("shown: %s", s.length() > 300 ? s.substring(0, 300) + "..." : s).doesNotContain(SECRET)
                    .doesNotContain(ODD_SECRET).doesNotContain("0dd&Se").doesNotContain("cr,et)@42");
        }
    }

    private void drive() throws Exception {
        String url = Postgres.url() + (Postgres.url().contains("?") ? "&" : "?") + "password=" + SECRET;
        RecordingListener events = new RecordingListener();
        List<String> metricCalls = new java.util.concurrent.CopyOnWriteArrayList<>();
        dev.ferry.observe.MetricsTrackerFactory metrics = pool -> {
            metricCalls.add("create " + pool);
            return new dev.ferry.observe.PoolMetrics() {
                @Override
                public void evicted(String reason) {
                    metricCalls.add("evicted " + reason);
                }

                @Override
                public void rejected(String reason) {
                    metricCalls.add("rejected " + reason);
                }

                @Override
                public void timedOut(String lane) {
                    metricCalls.add("timedOut " + lane);
                }
            };
        };
        // A working pool, with the secret set four ways; statements and evictions produce events and log lines.
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(url).poolName("ferry-secrets")
                .password(SECRET).dataSourceProperty("sslpassword", SECRET).registerMbeans(true).listener(events)
                .metricsTrackerFactory(metrics).slowStatementThreshold(Duration.ofNanos(1))
                .replica("jdbc:postgresql://127.0.0.1:1/test?user=postgres&connectTimeout=1&password=" + SECRET)
                .maximumPoolSize(2).minimumIdle(1).connectionTimeout(Duration.ofSeconds(3)).build())) {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT '" + SECRET + "'::text")) { // a literal: statistics mask it
                rs.next();
                see(c);
                see(s);
                ds.unwrap(FerryPool.class).evictConnection(c);
            }
            try (Connection c = ds.reads().getConnection()) { // the replica is down: banned, read from the primary
                see(c);
            }
            ds.unwrap(FerryPool.class).softEvictConnections();
            see(ds);
            see(ds.getConfig());
            see(ds.unwrap(FerryPool.class));
            see(ds.reads());
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            Set<ObjectName> names = server.queryNames(new ObjectName("dev.ferry:*"), null);
            assertThat(names).isNotEmpty();
            for (ObjectName name : names) {
                see(name);
                for (MBeanAttributeInfo a : server.getMBeanInfo(name).getAttributes()) {
                    try {
                        Object value = server.getAttribute(name, a.getName());
                        see(a.getName() + "=" + (value instanceof Object[] arr ? java.util.Arrays.deepToString(arr)
                                : value));
                    } catch (Exception e) {
                        seeChain(e);
                    }
                }
            }
        }
        assertThat(events.events).as("events were raised").isNotEmpty();
        events.events.forEach(this::see);
        events.of(PoolEvent.SlowStatement.class).forEach(e -> see(e.fingerprint()));
        assertThat(metricCalls).isNotEmpty();
        metricCalls.forEach(this::see);

        // The odd secret as the password and in a Properties object, on a pool that works and one that cannot start.
        java.util.Properties props = new java.util.Properties();
        props.setProperty("sslpassword", ODD_SECRET);
        props.setProperty("password", ODD_SECRET);
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(Postgres.url())
                .poolName("ferry-secrets-odd").password(ODD_SECRET).dataSourceProperties(props).maximumPoolSize(1)
                .build()); Connection c = ds.getConnection()) {
            see(ds);
            see(ds.getConfig());
            see(c);
        }
        assertThatThrownBy(() -> new FerryDataSource(FerryConfig.builder()
                .jdbcUrl("jdbc:postgresql://127.0.0.1:1/test?user=postgres&connectTimeout=1")
                .poolName("ferry-secrets-odd-down").password(ODD_SECRET).dataSourceProperties(props)
                .connectionTimeout(Duration.ofMillis(500)).initializationFailTimeout(Duration.ofMillis(500)).build()))
                .satisfies(this::seeChain);
        // A pool that cannot start: the URL and the password in the exception and the log.
        String down = "jdbc:postgresql://127.0.0.1:1/test?user=postgres&connectTimeout=1&password=" + SECRET;
        assertThatThrownBy(() -> new FerryDataSource(FerryConfig.builder().jdbcUrl(down).password(SECRET)
                .poolName("ferry-secrets-down").connectionTimeout(Duration.ofMillis(500))
                .initializationFailTimeout(Duration.ofMillis(500)).build()))
                .satisfies(this::seeChain);
        // A caller timing out against it, the pool started without checking.
        try (FerryDataSource ds = new FerryDataSource(FerryConfig.builder().jdbcUrl(down).password(SECRET)
                .poolName("ferry-secrets-timeout").connectionTimeout(Duration.ofMillis(500)).minimumIdle(0)
                .initializationFailTimeout(Duration.ofMillis(-1)).build())) {
            assertThatThrownBy(ds::getConnection).satisfies(this::seeChain);
            see(ds);
        }
        // Settings refused at build time, the URL in hand.
        assertThatThrownBy(() -> FerryConfig.builder().jdbcUrl(url).password(SECRET).maximumPoolSize(0).build())
                .satisfies(this::seeChain);
        assertThatThrownBy(() -> FerryConfig.builder().jdbcUrl(url).replica("jdbc:mysql://h/db?password=" + SECRET)
                .build()).satisfies(this::seeChain);
        // A bean configured by setters, shown before and after it starts.
        try (FerryDataSource bean = new FerryDataSource()) {
            bean.setJdbcUrl(url);
            bean.setPassword(SECRET);
            bean.addDataSourceProperty("sslpassword", SECRET);
            bean.setPoolName("ferry-secrets-bean");
            see(bean);
            try (Connection c = bean.getConnection()) {
                see(c);
            }
            see(bean);
            see(bean.getConfig());
        }
    }

    /** Writes to two streams. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
