package dev.ferry.spring;

import dev.ferry.FerryConfig;
import dev.ferry.DataSourceView;
import dev.ferry.FerryDataSource;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.boot.jdbc.autoconfigure.JdbcConnectionDetails;
import org.springframework.boot.jdbc.autoconfigure.JndiDataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.XADataSourceAutoConfiguration;
import org.springframework.boot.jdbc.metadata.DataSourcePoolMetadataProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Ferry as the application's {@link DataSource}, in place of HikariCP: active when {@code spring.datasource.type}
 * is {@code dev.ferry.FerryDataSource} or unset, the application defines no DataSource of its own (lane views,
 * {@link DataSourceView}, do not count), no JNDI or XA DataSource and no R2DBC ConnectionFactory is configured
 * (as Boot's own backs off), and it has not excluded Boot's DataSource auto-configuration (then it wants none).
 * The pool starts at its first use, as Boot's HikariDataSource does, so the context starts while the database is
 * down. Ordered before Boot's DataSource
 * auto-configuration, which then backs off (it creates a DataSource only when there is none). Also listed for
 * Boot's JDBC test slices ({@code @JdbcTest}, {@code @DataJpaTest} with a real database), so they use Ferry too.
 * See {@link FerryConfigBinder} for the properties read.
 *
 * <p>Also, when their classes are present: a {@link DataSourcePoolMetadataProvider} (so Boot's
 * {@code jdbc.connections.*} meters and its {@code db} health see the pool), the Micrometer binding (Ferry's
 * {@code ferry.connections.*} meters, when a {@code MeterRegistry} bean and ferry-micrometer are there); the
 * {@code ferry} health indicator is {@link FerryHealthAutoConfiguration}'s.
 */
@AutoConfiguration(before = DataSourceAutoConfiguration.class,
        after = {JndiDataSourceAutoConfiguration.class, XADataSourceAutoConfiguration.class})
@ConditionalOnClass({DataSource.class, FerryDataSource.class})
@ConditionalOnMissingBean(type = "io.r2dbc.spi.ConnectionFactory")
@ConditionalOnProperty(name = "spring.datasource.type", havingValue = "dev.ferry.FerryDataSource", matchIfMissing = true)
@Conditional(OnDataSourceAutoConfigurationIncluded.class)
@EnableConfigurationProperties({DataSourceProperties.class, FerryProperties.class})
public class FerryAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean(value = DataSource.class, ignored = DataSourceView.class)
    FerryDataSource dataSource(DataSourceProperties dataSource, FerryProperties ferry, Environment environment,
                               ObjectProvider<JdbcConnectionDetails> connectionDetails,
                               ObjectProvider<FerryMetricsBinding> metrics,
                               ObjectProvider<dev.ferry.CredentialsProvider> credentials) {
        FerryConfigBinder binder = new FerryConfigBinder(dataSource, connectionDetails.getIfAvailable(), ferry,
                environment);
        FerryConfig.Builder b = binder.builder();
        dev.ferry.CredentialsProvider provider = credentials.getIfUnique(); // a bean of the application's
        if (provider != null) {
            if (dataSource.getPassword() == null && connectionDetails.getIfAvailable() == null) {
                b.password(null); // Boot's default for embedded databases (""), not one the application set
            }
            b.credentialsProvider(provider);
        }
        FerryMetricsBinding binding = metrics.getIfAvailable();
        if (binding != null) {
            binding.bind(b, ferry.isPercentileHistograms());
        }
        FerryConfig config;
        try {
            config = b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("Ferry cannot start with these properties: " + binder.describe(e), e);
        }
        return FerryDataSource.startingOnFirstUse(config); // lazily, as Boot's HikariDataSource
    }

    @Bean
    @ConditionalOnClass(DataSourcePoolMetadataProvider.class)
    DataSourcePoolMetadataProvider ferryPoolMetadataProvider() {
        return FerryDataSourcePoolMetadata::of;
    }

    /**
     * Ferry's meters in the application's MeterRegistry (Actuator), with ferry-micrometer on the class path. The
     * registry is looked up when the pool is built, not by a bean condition: Boot defines it in an
     * auto-configuration that may come after this one.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"io.micrometer.core.instrument.MeterRegistry",
            "dev.ferry.micrometer.MicrometerMetricsTrackerFactory"})
    static class Metrics {
        @Bean
        FerryMetricsBinding ferryMetricsBinding(ObjectProvider<io.micrometer.core.instrument.MeterRegistry> registry) {
            return new FerryMetricsBinding(registry);
        }
    }
}
