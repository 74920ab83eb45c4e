package dev.ferry.observe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import dev.ferry.FerryPool;
import dev.ferry.testkit.StubDatabase;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import javax.management.Attribute;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The pool's and lanes' MBeans, read and driven through the platform MBean server as a JMX client would. */
class PoolMBeansTest {

    private final StubDatabase db = StubDatabase.create();
    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    private FerryConfig.Builder config(String poolName) {
        return FerryConfig.builder().jdbcUrl(db.url() + ";password=hunter2").driverClassName("dev.ferry.testkit.StubDriver")
                .poolName(poolName).maximumPoolSize(4).minimumIdle(1).connectionTimeout(Duration.ofSeconds(5))
                .allowPoolSuspension(true).registerMbeans(true);
    }

    private FerryDataSource start(FerryConfig.Builder b) {
        FerryDataSource ds = new FerryDataSource(b.build());
        opened.add(ds);
        return ds;
    }

    @Test
    void thePoolsFiguresAndControlsAreThereWhileItRunsAndGoneWhenItCloses() throws Exception {
        FerryDataSource ds = start(config("jmx-pool").lane("web", 1, 4).lane("reports", 0, 2));
        FerryPool pool = ds.unwrap(FerryPool.class);
        ObjectName name = new ObjectName("dev.ferry:type=Pool,name=jmx-pool");
        assertThat(server.isRegistered(name)).isTrue();

        Connection c = ds.lane("web").getConnection();
        opened.add(0, c);
        assertThat(server.getAttribute(name, "ActiveConnections")).isEqualTo(1);
        assertThat(server.getAttribute(name, "TotalConnections")).isEqualTo(pool.totalConnections());
        assertThat(server.getAttribute(name, "ThreadsAwaitingConnection")).isEqualTo(0);
        assertThat(server.getAttribute(name, "PoolName")).isEqualTo("jmx-pool");

        server.setAttribute(name, new Attribute("MaximumPoolSize", 6));
        assertThat(pool.maximumPoolSize()).isEqualTo(6);
        server.setAttribute(name, new Attribute("Reserve", 2));
        assertThat(pool.reserve()).isEqualTo(2);
        assertThatThrownBy(() -> server.setAttribute(name, new Attribute("MaximumPoolSize", 0)))
                .hasRootCauseInstanceOf(IllegalArgumentException.class).rootCause()
                .hasMessageContaining("maximumPoolSize").hasMessageContaining("0");
        assertThat(pool.maximumPoolSize()).isEqualTo(6);

        server.invoke(name, "suspendPool", null, null);
        assertThat(pool.isSuspended()).isTrue();
        assertThat(server.getAttribute(name, "Suspended")).isEqualTo(true);
        server.invoke(name, "resumePool", null, null);
        assertThat(pool.isSuspended()).isFalse();
        server.invoke(name, "softEvictConnections", null, null);

        ObjectName web = new ObjectName("dev.ferry:type=Lane,pool=jmx-pool,name=web");
        assertThat(server.getAttribute(web, "Lent")).isEqualTo(1);
        assertThat(server.getAttribute(web, "Minimum")).isEqualTo(1);
        server.setAttribute(new ObjectName("dev.ferry:type=Lane,pool=jmx-pool,name=reports"), new Attribute("Cap", 3));
        assertThat(pool.lanes().stream().filter(l -> l.lane().name().equals("reports")).findFirst().orElseThrow()
                .lane().cap()).isEqualTo(3);
        assertThat(server.isRegistered(new ObjectName("dev.ferry:type=Lane,pool=jmx-pool,name=main"))).isTrue();

        // Nothing secret: no attribute of any of the pool's beans names a URL, user or password, or carries the
        // password given in the URL.
        for (ObjectName bean : server.queryNames(new ObjectName("dev.ferry:*"), null)) {
            for (var info : server.getMBeanInfo(bean).getAttributes()) {
                assertThat(info.getName().toLowerCase()).doesNotContain("password", "url", "user");
                assertThat(String.valueOf(server.getAttribute(bean, info.getName()))).doesNotContain("hunter2");
            }
        }

        c.close();
        ds.close();
        assertThat(server.isRegistered(name)).isFalse();
        assertThat(server.queryNames(new ObjectName("dev.ferry:type=Lane,pool=jmx-pool,*"), null)).isEmpty();
    }

    @Test
    void aNameJmxTreatsAsSyntaxIsQuotedAndWithoutRegisterMbeansNothingIsRegistered() throws Exception {
        start(config("orders, eu:1"));
        assertThat(server.isRegistered(PoolMBeans.poolName("orders, eu:1"))).isTrue();
        assertThat(PoolMBeans.poolName("orders, eu:1").getKeyProperty("name")).isEqualTo("\"orders, eu:1\"");

        start(config("lanes with quotes").lane("a*b", 0, 2).lane("tab\"q", 0, 2));
        assertThat(server.isRegistered(PoolMBeans.laneName("lanes with quotes", "a*b"))).isTrue();
        assertThat(server.isRegistered(PoolMBeans.laneName("lanes with quotes", "tab\"q"))).isTrue();

        start(config("no-jmx").registerMbeans(false));
        assertThat(server.isRegistered(PoolMBeans.poolName("no-jmx"))).isFalse();
        assertThat(server.queryNames(new ObjectName("dev.ferry:type=Lane,pool=no-jmx,*"), null)).isEmpty();
    }

    @Test
    void aSecondPoolWithTheSameNameStartsWithoutBeansAsInHikariCP() throws Exception {
        FerryDataSource first = start(config("twice"));
        FerryDataSource second = start(config("twice"));
        try (Connection c = second.getConnection()) {
            assertThat(c.isValid(1)).isTrue();
        }
        second.close(); // must not unregister the first pool's beans
        ObjectName name = PoolMBeans.poolName("twice");
        assertThat(server.isRegistered(name)).isTrue();
        assertThat(server.getAttribute(name, "TotalConnections")).isEqualTo(first.unwrap(FerryPool.class)
                .totalConnections());
    }

    @Test
    void aClashOnOneLaneRegistersNoneOfThePoolsBeansAndClosingLeavesTheOtherBeanAlone() throws Exception {
        ObjectName taken = PoolMBeans.laneName("clash", "web");
        server.registerMBean(new javax.management.StandardMBean(new PoolMBeansTest.Marker() { }, Marker.class), taken);
        try {
            FerryDataSource ds = start(config("clash").lane("web", 0, 2));
            try (Connection c = ds.getConnection()) {
                assertThat(c.isValid(1)).isTrue(); // it runs, without beans
            }
            assertThat(server.isRegistered(PoolMBeans.poolName("clash"))).as("all or nothing").isFalse();
            assertThat(server.isRegistered(PoolMBeans.laneName("clash", "main"))).isFalse();
            ds.close();
            assertThat(server.isRegistered(taken)).as("not this pool's to remove").isTrue();
        } finally {
            server.unregisterMBean(taken);
        }
    }

    /** A bean of someone else's, in the way of a pool's. */
    public interface Marker {
    }

    @Test
    void theHikariCPPropertyTurnsItOn() throws Exception {
        Properties p = new Properties();
        p.setProperty("jdbcUrl", db.url());
        p.setProperty("driverClassName", "dev.ferry.testkit.StubDriver");
        p.setProperty("poolName", "from-properties");
        p.setProperty("registerMbeans", "true");
        FerryConfig config = FerryConfig.builder().properties(p).build();
        assertThat(config.registerMbeans()).isTrue();
        assertThat(config.toString()).contains("registerMbeans=true");
        FerryDataSource ds = new FerryDataSource(config);
        opened.add(ds);
        assertThat(server.isRegistered(PoolMBeans.poolName("from-properties"))).isTrue();
        FerryDataSource bean = new FerryDataSource(); // HikariCP's bean style: set, then start at first use
        opened.add(bean);
        bean.setJdbcUrl(db.url());
        bean.setDriverClassName("dev.ferry.testkit.StubDriver");
        bean.setPoolName("bean-style");
        bean.setRegisterMbeans(true);
        assertThat(bean.isRegisterMbeans()).isTrue();
        bean.getConnection().close();
        assertThat(server.isRegistered(PoolMBeans.poolName("bean-style"))).isTrue();
        assertThatThrownBy(() -> bean.setRegisterMbeans(false)).isInstanceOf(IllegalStateException.class);
    }
}
