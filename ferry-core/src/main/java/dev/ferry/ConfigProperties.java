package dev.ferry;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads HikariCP-style properties into a builder: the keys of {@code new HikariConfig(properties)}, times in
 * milliseconds, and {@code dataSource.*} keys as data source properties. Values that are not strings (put into
 * a {@code Properties} by code) are read by their string form, except data source properties, which are passed
 * on as they are. HikariCP settings Ferry has no use for
 * ({@code isolateInternalQueries}) are accepted and logged as ignored; a key that is
 * neither fails, naming it, rather than being dropped silently.
 */
final class ConfigProperties {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigProperties.class);
    private static final String DATA_SOURCE_PREFIX = "dataSource.";
    /** Every key {@link #apply} knows (besides {@code dataSource.*}); FerryConfigTest keeps it in step. */
    static final java.util.List<String> KEYS = java.util.List.of(
            "jdbcUrl", "username", "password", "driverClassName", "dataSourceClassName", "poolName",
            "maximumPoolSize", "minimumIdle", "connectionTimeout", "idleTimeout", "maxLifetime", "keepaliveTime",
            "validationTimeout", "leakDetectionThreshold", "multipleAcquisition", "leakReclaimTimeout", "maxHoldTime", "idleInTransactionTimeout", "slowStatementThreshold", "sqlStatistics",
            "initializationFailTimeout", "queryTimeout", "housekeepingPeriod", "shutdownTimeout", "maxWaiting",
            "perUserPoolSize", "maxUserPools", "credentialsProviderClassName",
            "reserve", "reserveTimeout", "queueWaitTarget", "overloadInterval", "shedOnOverload", "autoCommit",
            "readOnly", "allowPoolSuspension", "transactionIsolation", "catalog", "schema", "connectionInitSql",
            "connectionTestQuery", "exceptionOverrideClassName", "registerMbeans", "isolateInternalQueries");

    private ConfigProperties() {
    }

    static void apply(FerryConfig.Builder b, Properties properties) {
        for (Map.Entry<Object, Object> entry : FerryConfig.copy(properties).entrySet()) {
            String key = String.valueOf(entry.getKey());
            if (key.startsWith(DATA_SOURCE_PREFIX)) {
                // Kept as given: a DataSource bean setter may take a non-String value.
                b.dataSourceProperty(key.substring(DATA_SOURCE_PREFIX.length()), entry.getValue());
                continue;
            }
            String value = String.valueOf(entry.getValue());
            try {
                // Credentials are taken exactly as written (a password may end in a space); the rest is trimmed.
                applyOne(b, key, key.equals("password") || key.equals("username") || key.equals("user") ? value
                        : value.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + ": got '" + (isSecret(key) ? Secrets.MASK : value)
                        + "'; allowed: a whole number" + (isTime(key) ? " of milliseconds" : ""), e);
            }
        }
    }

    private static boolean isSecret(String key) {
        return Secrets.isSecretKey(key);
    }

    private static boolean isTime(String key) {
        return key.toLowerCase(Locale.ROOT).endsWith("timeout") || key.endsWith("Time") || key.endsWith("Lifetime")
                || key.endsWith("Threshold") || key.endsWith("Period");
    }

    private static void applyOne(FerryConfig.Builder b, String key, String v) {
        switch (key) {
            case "jdbcUrl", "url" -> b.jdbcUrl(v);
            case "username", "user" -> b.username(v);
            case "password" -> b.password(v);
            case "driverClassName" -> b.driverClassName(v);
            case "dataSourceClassName" -> b.dataSourceClassName(v);
            case "poolName" -> b.poolName(v);
            case "maximumPoolSize" -> b.maximumPoolSize(Integer.parseInt(v));
            case "perUserPoolSize" -> b.perUserPoolSize(Integer.parseInt(v));
            case "credentialsProviderClassName" -> b.credentialsProviderClassName(v);
            case "maxUserPools" -> b.maxUserPools(Integer.parseInt(v));
            case "minimumIdle" -> b.minimumIdle(Integer.parseInt(v));
            case "connectionTimeout" -> b.connectionTimeout(millis(v));
            case "idleTimeout" -> b.idleTimeout(millis(v));
            case "maxLifetime" -> b.maxLifetime(millis(v));
            case "keepaliveTime" -> b.keepaliveTime(millis(v));
            case "validationTimeout" -> b.validationTimeout(millis(v));
            case "leakDetectionThreshold" -> b.leakDetectionThreshold(millis(v));
            case "multipleAcquisition" -> b.multipleAcquisition(multipleAcquisition(v));
            case "leakReclaimTimeout" -> b.leakReclaimTimeout(millis(v));
            case "maxHoldTime" -> b.maxHoldTime(millis(v));
            case "idleInTransactionTimeout" -> b.idleInTransactionTimeout(millis(v));
            case "slowStatementThreshold" -> b.slowStatementThreshold(millis(v));
            case "sqlStatistics" -> b.sqlStatistics(bool(key, v));
            case "initializationFailTimeout" -> b.initializationFailTimeout(millis(v));
            case "queryTimeout" -> b.queryTimeout(millis(v));
            case "housekeepingPeriod" -> b.housekeepingPeriod(millis(v));
            case "shutdownTimeout" -> b.shutdownTimeout(millis(v));
            case "maxWaiting" -> b.maxWaiting(Integer.parseInt(v));
            case "reserve" -> b.reserve(Integer.parseInt(v));
            case "reserveTimeout" -> b.reserveTimeout(millis(v));
            case "queueWaitTarget" -> b.queueWaitTarget(millis(v));
            case "overloadInterval" -> b.overloadInterval(millis(v));
            case "shedOnOverload" -> b.shedOnOverload(bool(key, v));
            case "autoCommit" -> b.autoCommit(bool(key, v));
            case "readOnly" -> b.readOnly(bool(key, v));
            case "allowPoolSuspension" -> b.allowPoolSuspension(bool(key, v));
            case "transactionIsolation" -> b.transactionIsolation(v);
            case "catalog" -> b.catalog(v);
            case "schema" -> b.schema(v);
            case "connectionInitSql" -> b.connectionInitSql(v);
            case "connectionTestQuery" -> b.connectionTestQuery(v);
            case "exceptionOverrideClassName" -> b.exceptionOverrideClassName(v);
            case "registerMbeans" -> b.registerMbeans(bool(key, v));
            case "isolateInternalQueries" ->
                    LOG.info("{}={} is a HikariCP setting Ferry does not use; ignored (see README's migration table)",
                            key, v);
            default -> throw new UnknownSettingException(key, key + ": not a setting Ferry or HikariCP knows; "
                    + "allowed: HikariCP's property names (jdbcUrl, maximumPoolSize, connectionTimeout, ...) and "
                    + "dataSource.* for driver properties");
        }
    }

    private static Duration millis(String v) {
        return Duration.ofMillis(Long.parseLong(v));
    }

    private static boolean bool(String key, String v) {
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new IllegalArgumentException(key + ": got '" + v + "'; allowed: true or false");
    }

    private static MultipleAcquisition multipleAcquisition(String v) {
        for (MultipleAcquisition a : MultipleAcquisition.values()) {
            if (a.name().equalsIgnoreCase(v.trim())) {
                return a;
            }
        }
        throw new IllegalArgumentException("multipleAcquisition: got '" + v + "'; allowed: ALLOW, WARN or FAIL");
    }
}
