package dev.ferry.spring;

import dev.ferry.FerryDataSource;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * A {@code ferry} health contributor for Actuator, when the application's DataSource is Ferry (the starter's or
 * its own) and Boot's health module is present. Off with {@code management.health.ferry.enabled=false}.
 */
@AutoConfiguration(after = FerryAutoConfiguration.class,
        afterName = "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration")
@ConditionalOnClass(name = "org.springframework.boot.health.contributor.AbstractHealthIndicator")
@ConditionalOnSingleCandidate(FerryDataSource.class)
public class FerryHealthAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "ferryHealthIndicator")
    @ConditionalOnEnabledHealthIndicator("ferry")
    FerryHealthIndicator ferryHealthIndicator(FerryDataSource dataSource) {
        return new FerryHealthIndicator(dataSource);
    }
}
