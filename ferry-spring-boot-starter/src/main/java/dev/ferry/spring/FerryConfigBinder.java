package dev.ferry.spring;

import dev.ferry.FerryConfig;
import dev.ferry.UnknownSettingException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.core.env.Environment;

/**
 * Builds a {@link FerryConfig} from Boot's properties, in this order (later wins): {@code spring.datasource.url},
 * {@code username}, {@code password}, {@code driver-class-name}; {@code spring.datasource.hikari.*} (HikariCP's
 * settings, by their relaxed names; keys Ferry does not know are logged as ignored, once); then
 * {@code spring.datasource.ferry.*}. Ferry validates the result; a value it refuses fails start-up with an
 * {@link IllegalStateException} whose message names the Boot property that set it and Ferry's reason.
 */
final class FerryConfigBinder {

    private static final Logger LOG = LoggerFactory.getLogger(FerryConfigBinder.class);
    static final String FERRY = "spring.datasource.ferry.";
    static final String HIKARI = "spring.datasource.hikari.";

    private final DataSourceProperties dataSource;
    private final FerryProperties ferry;
    private final Map<String, String> hikari;
    /** Ferry's setting name -> the Boot property that set it last. */
    private final Map<String, String> origin = new LinkedHashMap<>();
    private final List<String> ignored = new ArrayList<>();

    FerryConfigBinder(DataSourceProperties dataSource, FerryProperties ferry, Environment environment) {
        this.dataSource = dataSource;
        this.ferry = ferry;
        this.hikari = Binder.get(environment).bind("spring.datasource.hikari", Bindable.mapOf(String.class,
                Object.class)).map(FerryConfigBinder::flatten).orElse(Map.of());
    }

    /** The HikariCP keys found that Ferry does not know (logged, not applied). */
    List<String> ignored() {
        return ignored;
    }

    FerryConfig.Builder builder() {
        FerryConfig.Builder b = FerryConfig.builder();
        set(b, "jdbcUrl", "spring.datasource.url", dataSource.determineUrl(), b::jdbcUrl);
        set(b, "username", "spring.datasource.username", dataSource.determineUsername(), b::username);
        set(b, "password", "spring.datasource.password", dataSource.determinePassword(), b::password);
        set(b, "driverClassName", "spring.datasource.driver-class-name", dataSource.determineDriverClassName(),
                b::driverClassName);
        if (dataSource.getName() != null && !dataSource.isGenerateUniqueName()) {
            set(b, "poolName", "spring.datasource.name", dataSource.getName(), b::poolName);
        }
        applyHikari(b);
        applyFerry(b);
        return b;
    }

    FerryConfig build() {
        try {
            return builder().build();
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("Ferry cannot start with these properties: " + describe(e), e);
        }
    }

    /** "spring.datasource.ferry.maximum-pool-size: maximumPoolSize: got 0; allowed: at least 1". */
    String describe(IllegalArgumentException e) {
        String message = String.valueOf(e.getMessage());
        int colon = message.indexOf(':');
        String setting = colon < 0 ? "" : message.substring(0, colon).trim();
        String property = origin.get(setting);
        return property == null ? message : property + ": " + message;
    }

    private void applyHikari(FerryConfig.Builder b) {
        for (Map.Entry<String, String> e : hikari.entrySet()) {
            int dot = e.getKey().indexOf('.');
            String setting = dot < 0 ? camel(e.getKey()) : camel(e.getKey().substring(0, dot)) + e.getKey().substring(dot);
            String key = setting.startsWith("dataSourceProperties.") ? "dataSource."
                    + setting.substring("dataSourceProperties.".length()) : setting;
            Properties one = new Properties();
            one.setProperty(key, e.getValue());
            try {
                b.properties(one);
                origin.put(setting, HIKARI + e.getKey());
            } catch (UnknownSettingException unknown) {
                ignored.add(HIKARI + e.getKey());
            } catch (IllegalArgumentException invalid) {
                throw new IllegalStateException("Ferry cannot start with these properties: " + HIKARI + e.getKey()
                        + ": " + invalid.getMessage(), invalid);
            }
        }
        if (!ignored.isEmpty()) {
            LOG.warn("Ferry ignores these HikariCP properties (no Ferry equivalent; see README's migration table): {}",
                    ignored);
        }
    }

    private void applyFerry(FerryConfig.Builder b) {
        FerryProperties f = ferry;
        set(b, "poolName", f.getPoolName(), b::poolName);
        set(b, "maximumPoolSize", f.getMaximumPoolSize(), b::maximumPoolSize);
        set(b, "minimumIdle", f.getMinimumIdle(), b::minimumIdle);
        set(b, "connectionTimeout", f.getConnectionTimeout(), b::connectionTimeout);
        set(b, "idleTimeout", f.getIdleTimeout(), b::idleTimeout);
        set(b, "maxLifetime", f.getMaxLifetime(), b::maxLifetime);
        set(b, "keepaliveTime", f.getKeepaliveTime(), b::keepaliveTime);
        set(b, "validationTimeout", f.getValidationTimeout(), b::validationTimeout);
        set(b, "leakDetectionThreshold", f.getLeakDetectionThreshold(), b::leakDetectionThreshold);
        set(b, "initializationFailTimeout", f.getInitializationFailTimeout(), b::initializationFailTimeout);
        set(b, "queryTimeout", f.getQueryTimeout(), b::queryTimeout);
        set(b, "shutdownTimeout", f.getShutdownTimeout(), b::shutdownTimeout);
        set(b, "maxWaiting", f.getMaxWaiting(), b::maxWaiting);
        set(b, "reserve", f.getReserve(), b::reserve);
        set(b, "reserveTimeout", f.getReserveTimeout(), b::reserveTimeout);
        set(b, "queueWaitTarget", f.getQueueWaitTarget(), b::queueWaitTarget);
        set(b, "overloadInterval", f.getOverloadInterval(), b::overloadInterval);
        set(b, "shedOnOverload", f.getShedOnOverload(), b::shedOnOverload);
        set(b, "sizingPeriod", f.getSizingPeriod(), b::sizingPeriod);
        set(b, "serverAwareCap", f.getServerAwareCap(), b::serverAwareCap);
        set(b, "registerMbeans", f.getRegisterMbeans(), b::registerMbeans);
        set(b, "autoCommit", f.getAutoCommit(), b::autoCommit);
        set(b, "readOnly", f.getReadOnly(), b::readOnly);
        set(b, "transactionIsolation", f.getTransactionIsolation(), b::transactionIsolation);
        set(b, "catalog", f.getCatalog(), b::catalog);
        set(b, "schema", f.getSchema(), b::schema);
        set(b, "connectionInitSql", f.getConnectionInitSql(), b::connectionInitSql);
        set(b, "connectionTestQuery", f.getConnectionTestQuery(), b::connectionTestQuery);
        set(b, "exceptionOverrideClassName", f.getExceptionOverrideClassName(), b::exceptionOverrideClassName);
        set(b, "allowPoolSuspension", f.getAllowPoolSuspension(), b::allowPoolSuspension);
        set(b, "sqlStatistics", f.getSqlStatistics(), b::sqlStatistics);
        set(b, "slowStatementThreshold", f.getSlowStatementThreshold(), b::slowStatementThreshold);
        f.getDataSourceProperties().forEach(b::dataSourceProperty);
        if (f.getSizing() != null) {
            String sizing = f.getSizing().trim().toLowerCase(Locale.ROOT);
            origin.put("sizing", FERRY + "sizing");
            switch (sizing) {
                case "none" -> b.sizing(null);
                case "reactive" -> b.sizing(dev.ferry.capacity.SizingPolicy.reactive());
                default -> throw new IllegalStateException("Ferry cannot start with these properties: " + FERRY
                        + "sizing: got '" + f.getSizing() + "'; allowed: none or reactive (scheduled and forecast "
                        + "policies are set in code: FerryConfig.Builder.sizing)");
            }
        }
        f.getLanes().forEach((name, lane) -> {
            origin.put("lane", FERRY + "lanes." + name);
            int cap = lane.getCap() != null ? lane.getCap()
                    : f.getMaximumPoolSize() != null ? f.getMaximumPoolSize() : Integer.MAX_VALUE;
            try {
                b.lane(name, lane.getMinimum(), cap, lane.getWeight());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("Ferry cannot start with these properties: " + FERRY + "lanes."
                        + name + ": " + e.getMessage(), e);
            }
        });
    }

    private <T> void set(FerryConfig.Builder b, String setting, T value, Consumer<T> apply) {
        set(b, setting, FERRY + kebab(setting), value, apply);
    }

    private <T> void set(FerryConfig.Builder b, String setting, String property, T value, Consumer<T> apply) {
        if (value != null) {
            apply.accept(value);
            origin.put(setting, property);
        }
    }

    /** maximum-pool-size, maximumPoolSize, maximum_pool_size -> maximumPoolSize (Boot's relaxed names). */
    static String camel(String key) {
        StringBuilder out = new StringBuilder();
        boolean upper = false;
        for (char c : key.toCharArray()) {
            if (c == '-' || c == '_') {
                upper = true;
            } else if (c == '.') {
                out.append(c);
                upper = false;
            } else {
                out.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return out.toString();
    }

    static String kebab(String setting) {
        return setting.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /** Nested maps (data-source-properties.x) as dotted keys; values as strings. */
    @SuppressWarnings("unchecked")
    private static Map<String, String> flatten(Map<String, Object> map) {
        Map<String, String> out = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            if (v instanceof Map) {
                flatten((Map<String, Object>) v).forEach((k2, v2) -> out.put(k + "." + k2, v2));
            } else if (v instanceof Duration d) {
                out.put(k, String.valueOf(d.toMillis()));
            } else {
                out.put(k, String.valueOf(v));
            }
        });
        return out;
    }
}
