package dev.ferry.spring;

import dev.ferry.FerryConfig;
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
import org.springframework.boot.jdbc.autoconfigure.JdbcConnectionDetails;
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
    /** Boot's connection details (Testcontainers' @ServiceConnection, Docker Compose), when there are some. */
    private final JdbcConnectionDetails connectionDetails;
    /** maximumPoolSize as set so far (Ferry's default 10): a lane without a cap is capped there. */
    private int maximumPoolSize = 10;
    private final FerryProperties ferry;
    private final Binder binder;
    /** Every key under spring.datasource.hikari, to find the ones Ferry does not know. */
    private final Map<String, String> hikari;
    /** Ferry's setting name -> the Boot property that set it last. */
    private final Map<String, String> origin = new LinkedHashMap<>();
    private final List<String> ignored = new ArrayList<>();

    FerryConfigBinder(DataSourceProperties dataSource, JdbcConnectionDetails connectionDetails, FerryProperties ferry,
                      Environment environment) {
        this.dataSource = dataSource;
        this.connectionDetails = connectionDetails;
        this.ferry = ferry;
        this.binder = Binder.get(environment);
        this.hikari = binder.bind("spring.datasource.hikari", Bindable.mapOf(String.class, Object.class))
                .map(FerryConfigBinder::flatten).orElse(Map.of());
    }

    /** The HikariCP keys found that Ferry does not know (logged, not applied). */
    List<String> ignored() {
        return ignored;
    }

    FerryConfig.Builder builder() {
        FerryConfig.Builder b = FerryConfig.builder();
        // With a data source class (HikariCP's dataSourceClassName), the URL and driver are its business, as in
        // Boot's HikariCP configuration.
        boolean dataSourceClass = binder.bind(HIKARI + "data-source-class-name", String.class).isBound();
        // Boot's own PropertiesJdbcConnectionDetails (package-private) only restates spring.datasource.*: read those
        // directly, with their embedded-database defaults.
        if (connectionDetails != null
                && !connectionDetails.getClass().getName().endsWith(".PropertiesJdbcConnectionDetails")) {
            set(b, "jdbcUrl", "the JdbcConnectionDetails bean", connectionDetails.getJdbcUrl(), b::jdbcUrl);
            set(b, "username", "the JdbcConnectionDetails bean", connectionDetails.getUsername(), b::username);
            set(b, "password", "the JdbcConnectionDetails bean", connectionDetails.getPassword(), b::password);
            set(b, "driverClassName", "the JdbcConnectionDetails bean", connectionDetails.getDriverClassName(),
                    b::driverClassName);
        } else {
            if (!dataSourceClass) {
                set(b, "jdbcUrl", "spring.datasource.url", dataSource.determineUrl(), b::jdbcUrl);
                set(b, "driverClassName", "spring.datasource.driver-class-name",
                        dataSource.determineDriverClassName(), b::driverClassName);
            }
            set(b, "username", "spring.datasource.username", dataSource.determineUsername(), b::username);
            set(b, "password", "spring.datasource.password", dataSource.determinePassword(), b::password);
        }
        if (dataSource.getName() != null && !dataSource.getName().isBlank()) {
            set(b, "poolName", "spring.datasource.name", dataSource.getName(), b::poolName); // as Boot does for HikariCP
        }
        applyHikari(b);
        applyFerry(b);
        return b;
    }

    /** "spring.datasource.ferry.maximum-pool-size: maximumPoolSize: got 0; allowed: at least 1". */
    String describe(IllegalArgumentException e) {
        String message = String.valueOf(e.getMessage());
        int colon = message.indexOf(':');
        String setting = colon < 0 ? "" : message.substring(0, colon).trim();
        String property = origin.get(setting);
        if (property == null && message.startsWith("lane ")) { // "lane reports(min 0, cap 20, weight 1): ..."
            String lane = message.substring(5).split("[( :]", 2)[0];
            property = origin.get("lane " + lane);
        }
        return property == null ? message : property + ": " + message;
    }

    /**
     * Each HikariCP setting is bound by its own name, so Boot's relaxed forms all work (kebab, camel, and
     * environment variables such as {@code SPRING_DATASOURCE_HIKARI_MINIMUMIDLE}); keys under the prefix that name
     * no setting are collected as ignored.
     */
    private void applyHikari(FerryConfig.Builder b) {
        for (String setting : FerryConfig.propertyNames()) {
            String property = HIKARI + kebab(setting);
            binder.bind(property, Bindable.of(String.class)).ifBound(value -> {
                Properties one = new Properties();
                one.setProperty(setting, value);
                try {
                    b.properties(one);
                    origin.put(setting, property);
                    if (setting.equals("maximumPoolSize")) {
                        maximumPoolSize = Integer.parseInt(value.trim());
                    }
                } catch (IllegalArgumentException invalid) {
                    throw new IllegalStateException("Ferry cannot start with these properties: " + property + ": "
                            + invalid.getMessage(), invalid);
                }
            });
        }
        binder.bind(HIKARI + "data-source-properties", Bindable.mapOf(String.class, String.class))
                .ifBound(map -> map.forEach(b::dataSourceProperty));
        java.util.Set<String> known = new java.util.HashSet<>();
        for (String setting : FerryConfig.propertyNames()) {
            known.add(normalized(setting));
        }
        for (String key : hikari.keySet()) {
            String first = key.contains(".") ? key.substring(0, key.indexOf('.')) : key;
            boolean legacyEnvironmentForm = known.contains(normalized(key.replace(".", ""))); // MAXIMUM_POOL_SIZE
            if (!known.contains(normalized(first)) && !legacyEnvironmentForm
                    && !normalized(first).equals("datasourceproperties")) {
                ignored.add(HIKARI + key);
            }
        }
        if (!ignored.isEmpty()) {
            LOG.warn("Ferry ignores these HikariCP properties (no Ferry equivalent; see README's migration table): {}",
                    ignored);
        }
    }

    /** A key without dashes, underscores and case, as Boot compares names. */
    private static String normalized(String key) {
        return key.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
    }

    private void applyFerry(FerryConfig.Builder b) {
        FerryProperties f = ferry;
        set(b, "poolName", f.getPoolName(), b::poolName);
        set(b, "maximumPoolSize", f.getMaximumPoolSize(), b::maximumPoolSize);
        if (f.getMaximumPoolSize() != null) {
            maximumPoolSize = f.getMaximumPoolSize();
        }
        set(b, "housekeepingPeriod", f.getHousekeepingPeriod(), b::housekeepingPeriod);
        set(b, "minimumIdle", f.getMinimumIdle(), b::minimumIdle);
        set(b, "connectionTimeout", f.getConnectionTimeout(), b::connectionTimeout);
        set(b, "idleTimeout", f.getIdleTimeout(), b::idleTimeout);
        set(b, "maxLifetime", f.getMaxLifetime(), b::maxLifetime);
        set(b, "keepaliveTime", f.getKeepaliveTime(), b::keepaliveTime);
        set(b, "validationTimeout", f.getValidationTimeout(), b::validationTimeout);
        set(b, "leakDetectionThreshold", f.getLeakDetectionThreshold(), b::leakDetectionThreshold);
        set(b, "multipleAcquisition", f.getMultipleAcquisition(), b::multipleAcquisition);
        set(b, "leakReclaimTimeout", f.getLeakReclaimTimeout(), b::leakReclaimTimeout);
        set(b, "maxHoldTime", f.getMaxHoldTime(), b::maxHoldTime);
        set(b, "idleInTransactionTimeout", f.getIdleInTransactionTimeout(), b::idleInTransactionTimeout);
        set(b, "initializationFailTimeout", f.getInitializationFailTimeout(), b::initializationFailTimeout);
        set(b, "queryTimeout", f.getQueryTimeout(), b::queryTimeout);
        set(b, "shutdownTimeout", f.getShutdownTimeout(), b::shutdownTimeout);
        set(b, "maxWaiting", f.getMaxWaiting(), b::maxWaiting);
        set(b, "perUserPoolSize", f.getPerUserPoolSize(), b::perUserPoolSize);
        set(b, "maxUserPools", f.getMaxUserPools(), b::maxUserPools);
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
            origin.put("lane " + name, FERRY + "lanes." + name);
            int cap = lane.getCap() != null ? lane.getCap() : maximumPoolSize;
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
