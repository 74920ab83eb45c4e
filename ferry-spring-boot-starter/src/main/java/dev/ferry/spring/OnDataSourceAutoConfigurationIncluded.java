package dev.ferry.spring;

import org.springframework.boot.autoconfigure.condition.ConditionEvaluationReport;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Matches unless the application excluded Boot's {@code DataSourceAutoConfiguration}
 * ({@code @SpringBootApplication(exclude = ...)}, {@code spring.autoconfigure.exclude}). An application that excludes
 * it wants no auto-configured DataSource, and with HikariCP it gets none, so Ferry must not create one either
 * (Spring PetClinic's tests rely on this).
 */
class OnDataSourceAutoConfigurationIncluded extends SpringBootCondition {

    static final String DATA_SOURCE_AUTO_CONFIGURATION =
            "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration";

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        if (context.getBeanFactory() != null && ConditionEvaluationReport.get(context.getBeanFactory())
                .getExclusions().contains(DATA_SOURCE_AUTO_CONFIGURATION)) {
            return ConditionOutcome.noMatch("DataSourceAutoConfiguration is excluded: no auto-configured DataSource");
        }
        return ConditionOutcome.match("DataSourceAutoConfiguration is not excluded");
    }
}
