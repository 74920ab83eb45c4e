package dev.ferry.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.FerryDataSource;
import dev.ferry.FerryPool;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.metadata.CompositeDataSourcePoolMetadataProvider;
import org.springframework.boot.jdbc.metadata.DataSourcePoolMetadata;
import org.springframework.boot.jdbc.metadata.DataSourcePoolMetadataProvider;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The starter in an application context (Boot's {@code ApplicationContextRunner}), on embedded H2, with HikariCP on
 * the class path as in every Boot application: activation and back-off, property binding and its errors,
 * {@code spring.datasource.hikari.*}, pool metadata, metrics and health.
 */
class FerryAutoConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(FerryAutoConfiguration.class, DataSourceAutoConfiguration.class,
                    FerryHealthAutoConfiguration.class))
            .withPropertyValues("spring.datasource.url=jdbc:h2:mem:starter;DB_CLOSE_DELAY=-1");

    @Test
    void ferryReplacesHikariWhenTheTypeIsUnset() {
        runner.run(context -> {
            assertThat(context).hasSingleBean(DataSource.class);
            assertThat(context.getBean(DataSource.class)).isInstanceOf(FerryDataSource.class);
            try (Connection c = context.getBean(DataSource.class).getConnection()) {
                assertThat(c.isValid(1)).isTrue();
            }
        });
    }

    @Test
    void ferryIsUsedWhenTheTypeNamesIt() {
        runner.withPropertyValues("spring.datasource.type=dev.ferry.FerryDataSource")
                .run(context -> assertThat(context.getBean(DataSource.class)).isInstanceOf(FerryDataSource.class));
    }

    @Test
    void backsOffWhenTheTypeIsAnotherPool() {
        runner.withPropertyValues("spring.datasource.type=com.zaxxer.hikari.HikariDataSource")
                .run(context -> {
                    assertThat(context.getBean(DataSource.class)).isInstanceOf(HikariDataSource.class);
                    assertThat(context).doesNotHaveBean(FerryDataSource.class);
                });
    }

    @Test
    void theApplicationsOwnDataSourceWins() {
        runner.withUserConfiguration(OwnDataSource.class).run(context -> {
            assertThat(context).hasSingleBean(DataSource.class);
            assertThat(context.getBean(DataSource.class)).isInstanceOf(JdbcDataSource.class);
            assertThat(context).doesNotHaveBean(FerryDataSource.class);
        });
    }

    @Test
    void bindsFerrysPropertiesWithRelaxedNames() {
        runner.withPropertyValues("spring.datasource.ferry.pool-name=orders",
                        "spring.datasource.ferry.maximum-pool-size=7", "spring.datasource.ferry.minimumIdle=1",
                        "spring.datasource.ferry.connection-timeout=2s", "spring.datasource.ferry.max-waiting=50",
                        "spring.datasource.ferry.reserve=2", "spring.datasource.ferry.sql-statistics=true",
                        "spring.datasource.ferry.lanes.reports.cap=2", "spring.datasource.ferry.lanes.reports.weight=1",
                        "spring.datasource.ferry.sizing=reactive", "spring.datasource.ferry.per-user-pool-size=2",
                        "spring.datasource.ferry.max-user-pools=3")
                .run(context -> {
                    FerryDataSource ds = context.getBean(FerryDataSource.class);
                    FerryPool pool = ds.unwrap(FerryPool.class);
                    assertThat(pool.poolName()).isEqualTo("orders");
                    assertThat(ds.getConfig().perUserPoolSize()).isEqualTo(2);
                    assertThat(ds.getConfig().maxUserPools()).isEqualTo(3);
                    assertThat(pool.maximumPoolSize()).isEqualTo(7);
                    assertThat(pool.minimumIdle()).isEqualTo(1);
                    assertThat(ds.getConnectionTimeout()).isEqualTo(2_000);
                    assertThat(pool.reserve()).isEqualTo(2);
                    assertThat(pool.sqlStatistics()).isPresent();
                    assertThat(pool.lanes()).extracting(l -> l.lane().name()).contains("reports");
                    assertThat(pool.sizingPolicy()).isNotNull();
                    try (Connection c = ds.lane("reports").getConnection()) {
                        assertThat(c.isValid(1)).isTrue();
                    }
                });
    }

    @Test
    void aCredentialsProviderBeanAndTheDoubleBorrowGuardAreUsed() {
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        runner.withBean(dev.ferry.CredentialsProvider.class, () -> () -> {
                    asked.incrementAndGet();
                    return dev.ferry.CredentialsProvider.Credentials.of("sa", "");
                })
                .withPropertyValues("spring.datasource.ferry.multiple-acquisition=fail")
                .run(context -> {
                    FerryDataSource ds = context.getBean(FerryDataSource.class);
                    try (Connection c = ds.getConnection()) {
                        assertThat(c.isValid(1)).isTrue();
                        org.assertj.core.api.Assertions.assertThatThrownBy(ds::getConnection)
                                .hasMessageContaining("multipleAcquisition=FAIL");
                    }
                    assertThat(asked.get()).as("asked for the connection it opened").isPositive();
                    assertThat(ds.getConfig().credentialsProvider()).isNotNull();
                    assertThat(ds.getConfig().multipleAcquisition()).isEqualTo(dev.ferry.MultipleAcquisition.FAIL);
                });
    }

    @Test
    void anInvalidValueFailsStartUpNamingTheProperty() {
        runner.withPropertyValues("spring.datasource.ferry.maximum-pool-size=0").run(context -> {
            assertThat(context).hasFailed();
            assertThat(rootMessage(context.getStartupFailure())).contains(
                    "spring.datasource.ferry.maximum-pool-size: maximumPoolSize: got 0; allowed: at least 1");
        });
        runner.withPropertyValues("spring.datasource.ferry.minimum-idle=5",
                "spring.datasource.ferry.maximum-pool-size=2").run(context -> {
            assertThat(context).hasFailed();
            assertThat(rootMessage(context.getStartupFailure())).contains(
                    "spring.datasource.ferry.minimum-idle: minimumIdle: got 5; allowed: at most maximumPoolSize (2)");
        });
        runner.withPropertyValues("spring.datasource.ferry.sizing=magic").run(context -> {
            assertThat(context).hasFailed();
            assertThat(rootMessage(context.getStartupFailure())).contains(
                    "spring.datasource.ferry.sizing: got 'magic'; allowed: none or reactive");
        });
        runner.withPropertyValues("spring.datasource.ferry.connection-timeout=soon").run(context -> {
            assertThat(context).hasFailed();
            assertThat(rootMessage(context.getStartupFailure())).contains("soon");
        });
    }

    @Test
    void hikariPropertiesAreHonouredAndUnknownOnesIgnored() {
        runner.withPropertyValues("spring.datasource.hikari.maximum-pool-size=5",
                        "spring.datasource.hikari.minimum-idle=0", "spring.datasource.hikari.connection-timeout=2500",
                        "spring.datasource.hikari.pool-name=from-hikari",
                        "spring.datasource.hikari.data-source-properties.MODE=PostgreSQL",
                        "spring.datasource.hikari.health-check-properties.expected99thPercentileMs=10")
                .run(context -> {
                    FerryDataSource ds = context.getBean(FerryDataSource.class);
                    FerryPool pool = ds.unwrap(FerryPool.class);
                    assertThat(pool.maximumPoolSize()).isEqualTo(5);
                    assertThat(pool.minimumIdle()).isZero();
                    assertThat(ds.getConnectionTimeout()).isEqualTo(2_500);
                    assertThat(pool.poolName()).isEqualTo("from-hikari");
                    try (Connection c = ds.getConnection();
                         java.sql.ResultSet rs = c.createStatement().executeQuery(
                                 "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'MODE'")) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo("PostgreSQL");
                    }
                });
        runner.withInitializer(context -> context.getEnvironment().getPropertySources().addFirst(
                        new org.springframework.core.env.SystemEnvironmentPropertySource("test-systemEnvironment", java.util.Map.of(
                                "SPRING_DATASOURCE_HIKARI_MINIMUMIDLE", "0",
                                "SPRING_DATASOURCE_HIKARI_CONNECTIONTIMEOUT", "2000"))))
                .run(context -> {
                    FerryDataSource ds = context.getBean(FerryDataSource.class);
                    assertThat(ds.unwrap(FerryPool.class).minimumIdle()).as("from an environment variable").isZero();
                    assertThat(ds.getConnectionTimeout()).isEqualTo(2_000);
                });
        runner.withPropertyValues("spring.datasource.hikari.maximum-pool-size=5",
                        "spring.datasource.ferry.maximum-pool-size=6")
                .run(context -> assertThat(context.getBean(FerryDataSource.class).unwrap(FerryPool.class)
                        .maximumPoolSize()).as("Ferry's property wins").isEqualTo(6));
        runner.withPropertyValues("spring.datasource.hikari.maximum-pool-size=-3").run(context -> {
            assertThat(context).hasFailed();
            assertThat(rootMessage(context.getStartupFailure()))
                    .contains("spring.datasource.hikari.maximum-pool-size: maximumPoolSize: got -3");
        });
    }

    @Test
    void bootsPoolMetadataSeesThePool() {
        runner.withPropertyValues("spring.datasource.ferry.maximum-pool-size=4",
                "spring.datasource.ferry.minimum-idle=1").run(context -> {
            DataSource ds = context.getBean(DataSource.class);
            try (Connection c = ds.getConnection()) {
                DataSourcePoolMetadata metadata = new CompositeDataSourcePoolMetadataProvider(
                        context.getBeansOfType(DataSourcePoolMetadataProvider.class).values())
                        .getDataSourcePoolMetadata(ds); // as Boot's metrics and health combine them
                assertThat(metadata.getMax()).isEqualTo(4);
                assertThat(metadata.getMin()).isEqualTo(1);
                assertThat(metadata.getActive()).isEqualTo(1);
                assertThat(metadata.getUsage()).isEqualTo(0.25f);
            }
        });
    }

    @Test
    void ferrysMetersGoToTheApplicationsRegistry() {
        runner.withUserConfiguration(Registry.class).withPropertyValues("spring.datasource.ferry.pool-name=metered")
                .run(context -> {
                    DataSource ds = context.getBean(DataSource.class);
                    ds.getConnection().close();
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    assertThat(registry.get("ferry.connections.max").tag("pool", "metered").gauge().value())
                            .isEqualTo(10);
                    assertThat(registry.get("ferry.connections.acquire").tag("pool", "metered").timer().count())
                            .isEqualTo(1);
                });
    }

    @Test
    void healthCanBeSwitchedOffAndFollowsTheApplicationsOwnFerry() {
        runner.withPropertyValues("management.health.ferry.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(FerryHealthIndicator.class));
        runner.withUserConfiguration(OwnDataSource.class)
                .run(context -> assertThat(context).doesNotHaveBean(FerryHealthIndicator.class));
    }

    @Test
    void healthShowsThePoolsState() {
        runner.withPropertyValues("spring.datasource.ferry.pool-name=healthy", "spring.datasource.ferry.allow-pool-suspension=true")
                .run(context -> {
                    FerryHealthIndicator indicator = context.getBean(FerryHealthIndicator.class);
                    FerryDataSource ds = context.getBean(FerryDataSource.class);
                    ds.getConnection().close();
                    Health health = indicator.health(true);
                    assertThat(health.getStatus()).isEqualTo(Status.UP);
                    assertThat(health.getDetails()).containsEntry("pool", "healthy").containsKeys("active", "idle",
                            "waiting", "maximumPoolSize", "overloaded");
                    ds.unwrap(FerryPool.class).suspend();
                    assertThat(indicator.health(true).getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
                    ds.unwrap(FerryPool.class).resume();
                    ds.close();
                    assertThat(indicator.health(true).getStatus()).isEqualTo(Status.DOWN);
                });
    }

    @Test
    void healthIsOutOfServiceUntilAWarmUpReachesItsTarget() {
        runner.withPropertyValues("spring.datasource.ferry.maximum-pool-size=4", "spring.datasource.ferry.minimum-idle=0")
                .run(context -> {
            FerryHealthIndicator indicator = context.getBean(FerryHealthIndicator.class);
            FerryDataSource ds = context.getBean(FerryDataSource.class);
            dev.ferry.WarmUp partial = ds.warmUp(4, java.time.Duration.ZERO); // no time: one connection at most
            assertThat(partial.complete()).isFalse();
            assertThat(indicator.health(true).getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
            assertThat(indicator.health(true).getDetails()).containsEntry("ready", false);
            assertThat(ds.warmUp(4, java.time.Duration.ofSeconds(10)).complete()).isTrue();
            assertThat(indicator.health(true).getStatus()).isEqualTo(Status.UP);
            assertThat(indicator.health(true).getDetails()).containsEntry("ready", true).containsEntry("total", 4);
        });
    }

    @Test
    void anApplicationThatExcludesBootsDataSourceGetsNone() {
        try (var context = new org.springframework.boot.builder.SpringApplicationBuilder(NoDataSourceApp.class)
                .web(org.springframework.boot.WebApplicationType.NONE)
                .properties("spring.datasource.url=jdbc:h2:mem:excluded").run()) {
            assertThat(context.getBeansOfType(DataSource.class)).isEmpty();
        }
        try (var context = new org.springframework.boot.builder.SpringApplicationBuilder(DataSourceApp.class)
                .web(org.springframework.boot.WebApplicationType.NONE)
                .properties("spring.datasource.url=jdbc:h2:mem:included").run()) {
            assertThat(context.getBean(DataSource.class)).isInstanceOf(FerryDataSource.class);
        }
    }

    @org.springframework.boot.SpringBootConfiguration
    @org.springframework.boot.autoconfigure.EnableAutoConfiguration(exclude = DataSourceAutoConfiguration.class)
    static class NoDataSourceApp {
    }

    @org.springframework.boot.SpringBootConfiguration
    @org.springframework.boot.autoconfigure.EnableAutoConfiguration
    static class DataSourceApp {
    }

    @Test
    void connectionDetailsWinOverProperties() {
        runner.withUserConfiguration(Details.class).run(context -> {
            try (Connection c = context.getBean(DataSource.class).getConnection()) {
                assertThat(c.getMetaData().getURL()).isEqualTo("jdbc:h2:mem:from-details");
            }
        });
    }

    @Test
    void theContextStartsWhileTheDatabaseIsDownAsWithHikari() {
        runner.withPropertyValues("spring.datasource.url=jdbc:postgresql://127.0.0.1:1/nowhere",
                "spring.datasource.ferry.connection-timeout=250ms").run(context -> {
            assertThat(context).hasNotFailed();
            FerryDataSource ds = context.getBean(FerryDataSource.class);
            assertThat(ds.isRunning()).isFalse();
            Health health = context.getBean(FerryHealthIndicator.class).health(true);
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("started", false);
            org.assertj.core.api.Assertions.assertThatThrownBy(ds::getConnection)
                    .isInstanceOf(java.sql.SQLException.class);
        });
    }

    @Test
    void aLaneBeanDoesNotStopFerryAndALaneWithoutACapTakesThePoolsSize() {
        runner.withUserConfiguration(LaneBean.class).withPropertyValues(
                "spring.datasource.hikari.maximum-pool-size=4", "spring.datasource.ferry.lanes.reports.minimum=1",
                "spring.datasource.name=named").run(context -> {
            assertThat(context).hasNotFailed();
            FerryDataSource ds = context.getBean(FerryDataSource.class);
            FerryPool pool = ds.unwrap(FerryPool.class);
            assertThat(pool.poolName()).as("spring.datasource.name").isEqualTo("named");
            assertThat(pool.lanes()).filteredOn(l -> l.lane().name().equals("reports")).singleElement()
                    .satisfies(l -> assertThat(l.lane().cap()).isEqualTo(4));
            try (Connection c = context.getBean("reports", DataSource.class).getConnection()) {
                assertThat(c.isValid(1)).isTrue();
            }
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class Details {
        @Bean
        org.springframework.boot.jdbc.autoconfigure.JdbcConnectionDetails details() {
            return new org.springframework.boot.jdbc.autoconfigure.JdbcConnectionDetails() {
                @Override
                public String getUsername() {
                    return "sa";
                }

                @Override
                public String getPassword() {
                    return "";
                }

                @Override
                public String getJdbcUrl() {
                    return "jdbc:h2:mem:from-details";
                }
            };
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class LaneBean {
        @Bean(defaultCandidate = false)
        dev.ferry.DataSourceView reports(FerryDataSource dataSource) {
            return dataSource.lane("reports");
        }
    }

    private static String rootMessage(Throwable t) {
        StringBuilder all = new StringBuilder();
        for (Throwable x = t; x != null; x = x.getCause()) {
            all.append(x.getMessage()).append('\n');
        }
        return all.toString();
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnDataSource {
        @Bean
        DataSource dataSource() {
            JdbcDataSource ds = new JdbcDataSource();
            ds.setURL("jdbc:h2:mem:own");
            return ds;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Registry {
        @Bean
        MeterRegistry meterRegistry() {
            return new SimpleMeterRegistry();
        }
    }
}
