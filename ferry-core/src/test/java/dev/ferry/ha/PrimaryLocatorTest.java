package dev.ferry.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.FakeTicker;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Failover's host choice on fake hosts (each up or down, in recovery or not) and an injected clock: the primary is
 * found among the hosts, kept while it works, left only when it fails or is demoted, and the switch is reported
 * once, with the outage measured on the ticker. The real thing is {@code PostgresFailoverTest}.
 */
class PrimaryLocatorTest {

    static final String A = "jdbc:postgresql://a/app?user=app&password=s3cret-a";
    static final String B = "jdbc:postgresql://b/app?user=app&password=s3cret-b";
    static final String C = "jdbc:postgresql://c/app?user=app&password=s3cret-c";

    /** A host the connector can reach or not, answering pg_is_in_recovery() as told. */
    static final class FakeHost {
        volatile boolean up = true;
        volatile boolean inRecovery;
        volatile String systemIdentifier = "7000";
        /** An error the host answers a connect with (it is up, but refuses): null for none. */
        volatile SQLException refuses;
        final AtomicInteger connects = new AtomicInteger();
        final AtomicInteger open = new AtomicInteger();
    }

    final Map<String, FakeHost> hosts = new ConcurrentHashMap<>();
    final FakeTicker ticker = new FakeTicker();
    final List<String> switches = new CopyOnWriteArrayList<>();
    final List<Duration> outages = new CopyOnWriteArrayList<>();

    PrimaryLocatorTest() {
        hosts.put(A, new FakeHost());
        hosts.put(B, new FakeHost());
        hosts.put(C, new FakeHost());
        hosts.get(B).inRecovery = true;
        hosts.get(C).inRecovery = true;
    }

    PrimaryLocator locator() {
        return locator(List.of(A, B, C));
    }

    PrimaryLocator locator(List<String> urls) {
        return new PrimaryLocator("pool", urls, ticker, Duration.ofSeconds(5), Duration.ofSeconds(5), (from, to, outage) -> {
            switches.add(from + " -> " + to);
            outages.add(outage);
        });
    }

    /** Opens a fake connection; the URL of the host it reached is its toString. */
    Connection connect(String url) throws SQLException {
        FakeHost h = hosts.get(url);
        h.connects.incrementAndGet();
        if (!h.up) {
            throw new SQLException("Connection to " + url.replaceFirst("\\?.*", "") + " refused", "08001");
        }
        if (h.refuses != null) {
            throw h.refuses;
        }
        h.open.incrementAndGet();
        boolean recovery = h.inRecovery;
        String identifier = h.systemIdentifier;
        ResultSet rs = proxy(ResultSet.class, (name, args, state) -> switch (name) {
            case "next" -> state.getAndIncrement() == 0;
            case "getBoolean" -> recovery;
            case "getString" -> identifier;
            default -> null;
        });
        Statement s = proxy(Statement.class, (name, args, state) -> name.equals("executeQuery") ? rs : null);
        return proxy(Connection.class, (name, args, state) -> switch (name) {
            case "createStatement" -> s;
            case "close" -> {
                if (state.getAndIncrement() == 0) {
                    h.open.decrementAndGet();
                }
                yield null;
            }
            case "toString" -> url;
            case "getNetworkTimeout" -> 0;
            case "setNetworkTimeout" -> null;
            default -> throw new UnsupportedOperationException(name);
        });
    }

    interface Answer {
        Object answer(String method, Object[] args, AtomicInteger state) throws SQLException;
    }

    static <T> T proxy(Class<T> type, Answer answer) {
        AtomicInteger state = new AtomicInteger();
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                (p, m, args) -> answer.answer(m.getName(), args, state)));
    }

    static String host(Connection c) {
        return c.toString();
    }

    @Test
    void theConfiguredPrimaryTakesWritesWhileItIsOne() throws SQLException {
        PrimaryLocator locator = locator();
        for (int i = 0; i < 3; i++) {
            assertThat(host(locator.connect(this::connect))).isEqualTo(A);
        }
        assertThat(hosts.get(B).connects).as("replicas are not probed while the primary works").hasValue(0);
        assertThat(switches).isEmpty();
        assertThat(locator.primary()).contains("//a/").doesNotContain("s3cret");
    }

    @Test
    void whenThePrimaryIsDownAndNoneIsPromotedTheErrorNamesEachHostAndWhy() {
        hosts.get(A).up = false;
        PrimaryLocator locator = locator();
        assertThatThrownBy(() -> locator.connect(this::connect))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("no primary among 3 hosts")
                .hasMessageContaining("//a/app").hasMessageContaining("refused")
                .hasMessageContaining("//b/app").hasMessageContaining("in recovery")
                .hasMessageContaining("//c/app")
                .hasMessageNotContaining("s3cret")
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08001"));
        assertThat(hosts.values()).allSatisfy(h -> assertThat(h.open).as("refused connections are closed").hasValue(0));
        assertThat(switches).isEmpty();
    }

    @Test
    void writesMoveToThePromotedReplicaAndTheOutageIsMeasuredOnTheTicker() throws SQLException {
        PrimaryLocator locator = locator();
        assertThat(host(locator.connect(this::connect))).isEqualTo(A);
        hosts.get(A).up = false;
        assertThatThrownBy(() -> locator.connect(this::connect)).isInstanceOf(SQLException.class);
        ticker.advance(Duration.ofSeconds(2));
        assertThatThrownBy(() -> locator.connect(this::connect)).isInstanceOf(SQLException.class);
        ticker.advance(Duration.ofSeconds(1));
        hosts.get(C).inRecovery = false; // the cluster manager promoted c
        assertThat(host(locator.connect(this::connect))).isEqualTo(C);
        assertThat(switches).hasSize(1);
        assertThat(switches.get(0)).contains("//a/").contains("//c/").doesNotContain("s3cret");
        assertThat(outages).containsExactly(Duration.ofSeconds(3));
        assertThat(locator.primary()).contains("//c/");
        int probes = hosts.get(A).connects.get();
        assertThat(host(locator.connect(this::connect))).isEqualTo(C);
        assertThat(hosts.get(A).connects).as("the new primary is tried first, the old one not at all").hasValue(probes);
    }

    @Test
    void anOldPrimaryBackAsAPrimaryDoesNotDrawWritesBack() throws SQLException {
        PrimaryLocator locator = locator();
        hosts.get(A).up = false;
        hosts.get(B).inRecovery = false;
        assertThat(host(locator.connect(this::connect))).isEqualTo(B);
        hosts.get(A).up = true; // split brain: a restarted as a primary beside b
        for (int i = 0; i < 3; i++) {
            assertThat(host(locator.connect(this::connect))).isEqualTo(B);
        }
        assertThat(switches).hasSize(1);
    }

    @Test
    void aDemotedPrimaryIsLeftForTheOneThatIsPrimaryNow() throws SQLException {
        PrimaryLocator locator = locator();
        assertThat(host(locator.connect(this::connect))).isEqualTo(A);
        hosts.get(A).inRecovery = true; // a switchover: a now follows b
        hosts.get(B).inRecovery = false;
        assertThat(host(locator.connect(this::connect))).isEqualTo(B);
        assertThat(switches).containsExactly(
                "jdbc:postgresql://a/app?user=app&password=**** -> jdbc:postgresql://b/app?user=app&password=****");
        assertThat(outages).containsExactly(Duration.ZERO); // the ticker did not move
        assertThat(hosts.values()).allSatisfy(h -> assertThat(h.open.get()).isLessThanOrEqualTo(2));
        assertThat(hosts.get(A).open).as("the connection to the demoted host is closed").hasValue(1);
    }

    @Test
    void manyConnectorsAtOnceSwitchOnceAndAllLandOnTheNewPrimary() throws Exception {
        PrimaryLocator locator = locator();
        hosts.get(A).up = false;
        hosts.get(B).inRecovery = false;
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Connection>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 64; i++) {
                results.add(pool.submit(() -> locator.connect(this::connect)));
            }
            for (Future<Connection> f : results) {
                assertThat(host(f.get())).isEqualTo(B);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(switches).hasSize(1);
        assertThat(hosts.get(C).connects).as("c is never probed: b, next in order, is the primary").hasValue(0);
    }

    @Test
    void anErrorOfAHostThatAnswersIsTheCallersAndMovesNothing() throws SQLException {
        PrimaryLocator locator = locator();
        hosts.get(B).inRecovery = false; // would be taken if a search started
        hosts.get(A).refuses = new SQLException("FATAL: password authentication failed for user \"app\"", "28P01");
        assertThatThrownBy(() -> locator.connect(this::connect)).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).as("the driver's own error, unchanged").isEqualTo("28P01"));
        hosts.get(A).refuses = new SQLException("FATAL: sorry, too many clients already", "53300");
        assertThatThrownBy(() -> locator.connect(this::connect)).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("53300"));
        assertThat(hosts.get(B).connects).as("no search: b is never asked").hasValue(0);
        assertThat(switches).isEmpty();
        hosts.get(A).refuses = null;
        assertThat(host(locator.connect(this::connect))).isEqualTo(A);
    }

    @Test
    void aPrimaryOfAnotherClusterIsNeverTaken() throws SQLException {
        PrimaryLocator locator = locator();
        assertThat(host(locator.connect(this::connect))).isEqualTo(A); // learns the cluster: 7000
        hosts.get(B).inRecovery = false;
        hosts.get(B).systemIdentifier = "9999"; // a logical-replication subscriber, say
        hosts.get(A).up = false;
        assertThatThrownBy(() -> locator.connect(this::connect)).isInstanceOf(SQLException.class)
                .hasMessageContaining("another cluster").hasMessageContaining("9999");
        hosts.get(C).inRecovery = false; // the real replica, promoted
        assertThat(host(locator.connect(this::connect))).isEqualTo(C);
        assertThat(switches).hasSize(1);
    }

    @Test
    void aHostListedTwiceIsOneHost() throws SQLException {
        PrimaryLocator locator = locator(List.of(A, B, A));
        assertThat(host(locator.connect(this::connect))).isEqualTo(A);
        hosts.get(A).up = false;
        assertThatThrownBy(() -> locator.connect(this::connect)).isInstanceOf(SQLException.class)
                .hasMessageContaining("no primary among 2 hosts");
        assertThat(switches).as("never a failover from a host to itself").isEmpty();
    }
}
