package dev.ferry;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Immutable pool configuration. Build one with {@link #builder()}; {@link Builder#build()} checks every value
 * and throws {@link IllegalArgumentException} naming the setting, the value given and what is allowed. Nothing
 * is silently clamped: a value the pool cannot honour is an error, not a warning.
 *
 * <p>Setting names and defaults follow HikariCP's, so a configuration ports over unchanged.
 */
public final class FerryConfig {

    private static final AtomicInteger POOL_NUMBER = new AtomicInteger();

    private final String jdbcUrl;
    private final String username;
    private final String password;
    private final String driverClassName;
    private final Driver driver;
    private final Properties dataSourceProperties;
    private final String poolName;
    private final int maximumPoolSize;
    private final int minimumIdle;
    private final Duration connectionTimeout;
    private final Duration idleTimeout;
    private final Duration maxLifetime;
    private final Duration keepaliveTime;
    private final Duration validationTimeout;
    private final Duration leakDetectionThreshold;
    private final Duration initializationFailTimeout;
    private final Duration queryTimeout;
    private final Duration housekeepingPeriod;
    private final Duration shutdownTimeout;
    private final int maxWaiting;
    private final boolean autoCommit;
    private final boolean readOnly;
    private final Integer transactionIsolation;
    private final String catalog;
    private final String schema;
    private final String connectionInitSql;
    private final String connectionTestQuery;
    private final Ticker ticker;
    private final Scheduler scheduler;

    private FerryConfig(Builder b, Driver driver, Integer isolation, String poolName, int minimumIdle) {
        this.jdbcUrl = b.jdbcUrl;
        this.username = b.username;
        this.password = b.password;
        this.driverClassName = b.driverClassName;
        this.driver = driver;
        this.dataSourceProperties = copy(b.dataSourceProperties);
        this.poolName = poolName;
        this.maximumPoolSize = b.maximumPoolSize;
        this.minimumIdle = minimumIdle;
        this.connectionTimeout = b.connectionTimeout;
        this.idleTimeout = b.idleTimeout;
        this.maxLifetime = b.maxLifetime;
        this.keepaliveTime = b.keepaliveTime;
        this.validationTimeout = b.validationTimeout;
        this.leakDetectionThreshold = b.leakDetectionThreshold;
        this.initializationFailTimeout = b.initializationFailTimeout;
        this.queryTimeout = b.queryTimeout;
        this.housekeepingPeriod = b.housekeepingPeriod;
        this.shutdownTimeout = b.shutdownTimeout;
        this.maxWaiting = b.maxWaiting;
        this.autoCommit = b.autoCommit;
        this.readOnly = b.readOnly;
        this.transactionIsolation = isolation;
        this.catalog = b.catalog;
        this.schema = b.schema;
        this.connectionInitSql = b.connectionInitSql;
        this.connectionTestQuery = b.connectionTestQuery;
        this.ticker = b.ticker;
        this.scheduler = b.scheduler;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Any JDBC URL with its passwords and tokens masked, for printing. */
    public static String maskUrl(String jdbcUrl) {
        return Secrets.maskUrl(jdbcUrl);
    }

    /** A builder holding this configuration's values, to derive a changed copy. */
    public Builder toBuilder() {
        Builder b = new Builder()
                .jdbcUrl(jdbcUrl).username(username).password(password).driverClassName(driverClassName)
                .dataSourceProperties(dataSourceProperties).poolName(poolName)
                .maximumPoolSize(maximumPoolSize).minimumIdle(minimumIdle)
                .connectionTimeout(connectionTimeout).idleTimeout(idleTimeout).maxLifetime(maxLifetime)
                .keepaliveTime(keepaliveTime).validationTimeout(validationTimeout)
                .leakDetectionThreshold(leakDetectionThreshold).initializationFailTimeout(initializationFailTimeout)
                .queryTimeout(queryTimeout).housekeepingPeriod(housekeepingPeriod).shutdownTimeout(shutdownTimeout)
                .maxWaiting(maxWaiting).autoCommit(autoCommit).readOnly(readOnly).catalog(catalog).schema(schema)
                .connectionInitSql(connectionInitSql).connectionTestQuery(connectionTestQuery)
                .ticker(ticker).scheduler(scheduler);
        b.transactionIsolation = transactionIsolation == null ? null : transactionIsolation.toString();
        return b;
    }

    public String jdbcUrl() {
        return jdbcUrl;
    }

    /** The URL with passwords and tokens masked, for messages and logs. */
    public String maskedJdbcUrl() {
        return Secrets.maskUrl(jdbcUrl);
    }

    public String username() {
        return username;
    }

    /** The password, for the connection factory only. Never printed by Ferry. */
    public String password() {
        return password;
    }

    public String driverClassName() {
        return driverClassName;
    }

    /** The driver resolved at build time from driverClassName or the URL. */
    public Driver driver() {
        return driver;
    }

    /** A copy of the properties passed to the driver (username and password are added separately). */
    public Properties dataSourceProperties() {
        return copy(dataSourceProperties);
    }

    public String poolName() {
        return poolName;
    }

    public int maximumPoolSize() {
        return maximumPoolSize;
    }

    public int minimumIdle() {
        return minimumIdle;
    }

    public Duration connectionTimeout() {
        return connectionTimeout;
    }

    /** Zero means idle connections are never retired. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** Zero means connections are never retired for age. */
    public Duration maxLifetime() {
        return maxLifetime;
    }

    /** Zero means no keepalive probes. */
    public Duration keepaliveTime() {
        return keepaliveTime;
    }

    public Duration validationTimeout() {
        return validationTimeout;
    }

    /** Zero means leak detection is off. */
    public Duration leakDetectionThreshold() {
        return leakDetectionThreshold;
    }

    /**
     * How long start-up keeps trying to open the first connection before failing. Zero tries once; a negative
     * value skips the check and lets the pool start with the database unreachable.
     */
    public Duration initializationFailTimeout() {
        return initializationFailTimeout;
    }

    /** The statement timeout applied to every statement the pool hands out; zero means none. */
    public Duration queryTimeout() {
        return queryTimeout;
    }

    public Duration housekeepingPeriod() {
        return housekeepingPeriod;
    }

    /** How long {@code close()} waits for lent connections to come back before closing them anyway. */
    public Duration shutdownTimeout() {
        return shutdownTimeout;
    }

    /** Callers allowed to wait at once; one more is rejected immediately. */
    public int maxWaiting() {
        return maxWaiting;
    }

    public boolean autoCommit() {
        return autoCommit;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** A {@code Connection.TRANSACTION_*} level, or null for the driver's default. */
    public Integer transactionIsolation() {
        return transactionIsolation;
    }

    public String catalog() {
        return catalog;
    }

    public String schema() {
        return schema;
    }

    public String connectionInitSql() {
        return connectionInitSql;
    }

    /** A query used to validate connections instead of {@code Connection.isValid}; null uses isValid. */
    public String connectionTestQuery() {
        return connectionTestQuery;
    }

    public Ticker ticker() {
        return ticker;
    }

    /** The scheduler for housekeeping and leak checks, or null for one the pool owns. */
    public Scheduler scheduler() {
        return scheduler;
    }

    @Override
    public String toString() {
        return "FerryConfig{poolName=" + poolName + ", jdbcUrl=" + maskedJdbcUrl()
                + ", username=" + username + ", password=" + (password == null ? "null" : Secrets.MASK)
                + ", driver=" + driver.getClass().getName()
                + ", dataSourceProperties=" + maskedProperties(dataSourceProperties)
                + ", maximumPoolSize=" + maximumPoolSize + ", minimumIdle=" + minimumIdle
                + ", connectionTimeout=" + connectionTimeout.toMillis() + "ms"
                + ", idleTimeout=" + idleTimeout.toMillis() + "ms"
                + ", maxLifetime=" + maxLifetime.toMillis() + "ms"
                + ", keepaliveTime=" + keepaliveTime.toMillis() + "ms"
                + ", validationTimeout=" + validationTimeout.toMillis() + "ms"
                + ", leakDetectionThreshold=" + leakDetectionThreshold.toMillis() + "ms"
                + ", queryTimeout=" + queryTimeout.toMillis() + "ms"
                + ", maxWaiting=" + maxWaiting + ", autoCommit=" + autoCommit + ", readOnly=" + readOnly
                + ", transactionIsolation=" + transactionIsolation + ", catalog=" + catalog + ", schema=" + schema
                + "}";
    }

    static String maskedProperties(Properties props) {
        StringBuilder s = new StringBuilder("{");
        for (String key : props.stringPropertyNames()) {
            if (s.length() > 1) {
                s.append(", ");
            }
            s.append(key).append('=').append(Secrets.isSecretKey(key) ? Secrets.MASK : props.getProperty(key));
        }
        return s.append('}').toString();
    }

    private static Properties copy(Properties source) {
        Properties p = new Properties();
        if (source != null) {
            for (String key : source.stringPropertyNames()) {
                p.setProperty(key, source.getProperty(key));
            }
        }
        return p;
    }

    /**
     * Collects settings; {@link #build()} validates them all. Durations must be given with
     * {@link Duration}; the {@code FerryDataSource} bean setters take HikariCP's milliseconds.
     */
    public static final class Builder {
        String jdbcUrl;
        String username;
        String password;
        String driverClassName;
        Properties dataSourceProperties = new Properties();
        String poolName;
        int maximumPoolSize = 10;
        int minimumIdle = -1;
        Duration connectionTimeout = Duration.ofSeconds(30);
        Duration idleTimeout = Duration.ofMinutes(10);
        Duration maxLifetime = Duration.ofMinutes(30);
        Duration keepaliveTime = Duration.ofMinutes(2);
        Duration validationTimeout = Duration.ofSeconds(5);
        Duration leakDetectionThreshold = Duration.ZERO;
        Duration initializationFailTimeout = Duration.ofMillis(1);
        Duration queryTimeout = Duration.ZERO;
        Duration housekeepingPeriod = Duration.ofSeconds(30);
        Duration shutdownTimeout = Duration.ofSeconds(10);
        int maxWaiting = Integer.MAX_VALUE;
        boolean autoCommit = true;
        boolean readOnly;
        String transactionIsolation;
        String catalog;
        String schema;
        String connectionInitSql;
        String connectionTestQuery;
        Ticker ticker = Ticker.system();
        Scheduler scheduler;

        private Builder() {
        }

        public Builder jdbcUrl(String jdbcUrl) {
            this.jdbcUrl = jdbcUrl;
            return this;
        }

        public Builder username(String username) {
            this.username = username;
            return this;
        }

        public Builder password(String password) {
            this.password = password;
            return this;
        }

        public Builder driverClassName(String driverClassName) {
            this.driverClassName = driverClassName;
            return this;
        }

        /** Properties passed to the driver on every connect; replaces any set before. */
        public Builder dataSourceProperties(Properties properties) {
            this.dataSourceProperties = copy(properties);
            return this;
        }

        /** Adds one property passed to the driver on every connect. */
        public Builder dataSourceProperty(String key, String value) {
            this.dataSourceProperties.setProperty(key, value);
            return this;
        }

        public Builder poolName(String poolName) {
            this.poolName = poolName;
            return this;
        }

        public Builder maximumPoolSize(int maximumPoolSize) {
            this.maximumPoolSize = maximumPoolSize;
            return this;
        }

        /** Idle connections kept ready; defaults to maximumPoolSize (a fixed-size pool), as in HikariCP. */
        public Builder minimumIdle(int minimumIdle) {
            this.minimumIdle = minimumIdle;
            return this;
        }

        public Builder connectionTimeout(Duration connectionTimeout) {
            this.connectionTimeout = connectionTimeout;
            return this;
        }

        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
            return this;
        }

        public Builder maxLifetime(Duration maxLifetime) {
            this.maxLifetime = maxLifetime;
            return this;
        }

        public Builder keepaliveTime(Duration keepaliveTime) {
            this.keepaliveTime = keepaliveTime;
            return this;
        }

        public Builder validationTimeout(Duration validationTimeout) {
            this.validationTimeout = validationTimeout;
            return this;
        }

        public Builder leakDetectionThreshold(Duration leakDetectionThreshold) {
            this.leakDetectionThreshold = leakDetectionThreshold;
            return this;
        }

        public Builder initializationFailTimeout(Duration initializationFailTimeout) {
            this.initializationFailTimeout = initializationFailTimeout;
            return this;
        }

        /** Default statement timeout, in whole seconds (JDBC's resolution); zero means none. */
        public Builder queryTimeout(Duration queryTimeout) {
            this.queryTimeout = queryTimeout;
            return this;
        }

        public Builder housekeepingPeriod(Duration housekeepingPeriod) {
            this.housekeepingPeriod = housekeepingPeriod;
            return this;
        }

        public Builder shutdownTimeout(Duration shutdownTimeout) {
            this.shutdownTimeout = shutdownTimeout;
            return this;
        }

        /** Callers allowed to wait at once; beyond it getConnection() fails at once. 0 means never wait. */
        public Builder maxWaiting(int maxWaiting) {
            this.maxWaiting = maxWaiting;
            return this;
        }

        public Builder autoCommit(boolean autoCommit) {
            this.autoCommit = autoCommit;
            return this;
        }

        public Builder readOnly(boolean readOnly) {
            this.readOnly = readOnly;
            return this;
        }

        /**
         * The isolation level for every connection: a {@code Connection} constant name such as
         * {@code TRANSACTION_READ_COMMITTED} (the {@code TRANSACTION_} prefix is optional) or its number.
         */
        public Builder transactionIsolation(String transactionIsolation) {
            this.transactionIsolation = transactionIsolation;
            return this;
        }

        public Builder catalog(String catalog) {
            this.catalog = catalog;
            return this;
        }

        public Builder schema(String schema) {
            this.schema = schema;
            return this;
        }

        public Builder connectionInitSql(String connectionInitSql) {
            this.connectionInitSql = connectionInitSql;
            return this;
        }

        public Builder connectionTestQuery(String connectionTestQuery) {
            this.connectionTestQuery = connectionTestQuery;
            return this;
        }

        public Builder ticker(Ticker ticker) {
            this.ticker = ticker;
            return this;
        }

        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = scheduler;
            return this;
        }

        /** Validates every setting and returns the immutable configuration. */
        public FerryConfig build() {
            checkUrl();
            Driver driver = resolveDriver();
            require("maximumPoolSize", maximumPoolSize, maximumPoolSize >= 1, "at least 1");
            int minIdle = minimumIdle == -1 ? maximumPoolSize : minimumIdle;
            require("minimumIdle", minimumIdle, minimumIdle >= 0 || minimumIdle == -1,
                    "0 to maximumPoolSize (" + maximumPoolSize + "), or -1 for maximumPoolSize");
            require("minimumIdle", minimumIdle, minIdle <= maximumPoolSize,
                    "at most maximumPoolSize (" + maximumPoolSize + ")");
            positive("connectionTimeout", connectionTimeout);
            positive("validationTimeout", validationTimeout);
            positive("housekeepingPeriod", housekeepingPeriod);
            notNegative("idleTimeout", idleTimeout);
            notNegative("maxLifetime", maxLifetime);
            notNegative("keepaliveTime", keepaliveTime);
            notNegative("leakDetectionThreshold", leakDetectionThreshold);
            notNegative("queryTimeout", queryTimeout);
            notNegative("shutdownTimeout", shutdownTimeout);
            Objects.requireNonNull(initializationFailTimeout, "initializationFailTimeout must not be null");
            require("validationTimeout", ms(validationTimeout), validationTimeout.compareTo(connectionTimeout) <= 0,
                    "at most connectionTimeout (" + connectionTimeout.toMillis() + "ms)");
            if (!maxLifetime.isZero()) {
                require("idleTimeout", ms(idleTimeout), idleTimeout.compareTo(maxLifetime) < 0,
                        "less than maxLifetime (" + maxLifetime.toMillis()
                                + "ms), since a connection that outlives its lifetime never reaches it; or 0 to disable");
                require("keepaliveTime", ms(keepaliveTime), keepaliveTime.compareTo(maxLifetime) < 0,
                        "less than maxLifetime (" + maxLifetime.toMillis() + "ms), or 0 to disable");
                require("leakDetectionThreshold", ms(leakDetectionThreshold),
                        leakDetectionThreshold.compareTo(maxLifetime) < 0,
                        "less than maxLifetime (" + maxLifetime.toMillis() + "ms), or 0 to disable");
            }
            require("queryTimeout", ms(queryTimeout), queryTimeout.toNanos() % 1_000_000_000L == 0,
                    "a whole number of seconds (JDBC's Statement.setQueryTimeout counts seconds), or 0 to disable");
            require("maxWaiting", maxWaiting, maxWaiting >= 0, "0 (never wait) or more");
            Integer isolation = parseIsolation(transactionIsolation);
            if (ticker == null) {
                throw new IllegalArgumentException("ticker must not be null");
            }
            if (poolName != null && poolName.isBlank()) {
                throw new IllegalArgumentException("poolName: got a blank name; allowed: a non-blank name, or "
                        + "none for a generated one");
            }
            String name = poolName != null ? poolName : "ferry-" + POOL_NUMBER.incrementAndGet();
            return new FerryConfig(this, driver, isolation, name, minIdle);
        }

        private void checkUrl() {
            if (jdbcUrl == null || jdbcUrl.isBlank()) {
                throw new IllegalArgumentException("jdbcUrl: got " + (jdbcUrl == null ? "null" : "a blank URL")
                        + "; allowed: a JDBC URL such as jdbc:postgresql://host:5432/db");
            }
            int colon = jdbcUrl.indexOf(':', 5);
            if (!jdbcUrl.startsWith("jdbc:") || colon <= 5 || jdbcUrl.trim().length() != jdbcUrl.length()) {
                throw new IllegalArgumentException("jdbcUrl: malformed URL '" + Secrets.maskUrl(jdbcUrl)
                        + "'; allowed: jdbc:<subprotocol>:<details>, e.g. jdbc:postgresql://host:5432/db");
            }
        }

        private Driver resolveDriver() {
            String url = Secrets.maskUrl(jdbcUrl);
            if (driverClassName != null) {
                Class<?> type = loadClass(driverClassName);
                if (type == null) {
                    throw new IllegalArgumentException("driverClassName: class '" + driverClassName
                            + "' is not on the classpath; allowed: the class name of a java.sql.Driver on the "
                            + "classpath, or none to find the driver from jdbcUrl");
                }
                if (!Driver.class.isAssignableFrom(type)) {
                    throw new IllegalArgumentException("driverClassName: class '" + driverClassName
                            + "' does not implement java.sql.Driver");
                }
                Driver driver;
                try {
                    driver = (Driver) type.getDeclaredConstructor().newInstance();
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new IllegalArgumentException("driverClassName: could not instantiate '" + driverClassName
                            + "': " + e, e);
                }
                try {
                    if (!driver.acceptsURL(jdbcUrl)) {
                        throw new IllegalArgumentException("jdbcUrl: driver " + driverClassName
                                + " does not accept '" + url + "'; allowed: a URL for that driver");
                    }
                } catch (SQLException e) {
                    throw new IllegalArgumentException("jdbcUrl: driver " + driverClassName + " rejected '"
                            + url + "': " + e.getMessage(), e);
                }
                return driver;
            }
            try {
                return DriverManager.getDriver(jdbcUrl);
            } catch (SQLException e) {
                throw new IllegalArgumentException("jdbcUrl: no JDBC driver on the classpath accepts '" + url
                        + "'; add the driver's jar or set driverClassName", e);
            }
        }

        private static Class<?> loadClass(String name) {
            ClassLoader context = Thread.currentThread().getContextClassLoader();
            for (ClassLoader loader : new ClassLoader[] {context, FerryConfig.class.getClassLoader()}) {
                if (loader == null) {
                    continue;
                }
                try {
                    return Class.forName(name, true, loader);
                } catch (ClassNotFoundException | LinkageError e) {
                    // try the next loader
                }
            }
            return null;
        }

        static Integer parseIsolation(String value) {
            if (value == null) {
                return null;
            }
            String v = value.trim().toUpperCase(Locale.ROOT);
            try {
                int level = Integer.parseInt(v);
                for (Field f : Connection.class.getFields()) {
                    if (f.getName().startsWith("TRANSACTION_") && Modifier.isStatic(f.getModifiers())
                            && f.getInt(null) == level && level != Connection.TRANSACTION_NONE) {
                        return level;
                    }
                }
            } catch (NumberFormatException | IllegalAccessException e) {
                String name = v.startsWith("TRANSACTION_") ? v : "TRANSACTION_" + v;
                try {
                    if (!name.equals("TRANSACTION_NONE")) {
                        return Connection.class.getField(name).getInt(null);
                    }
                } catch (ReflectiveOperationException ignored) {
                    // fall through to the error
                }
            }
            throw new IllegalArgumentException("transactionIsolation: got '" + value + "'; allowed: "
                    + "TRANSACTION_READ_UNCOMMITTED, TRANSACTION_READ_COMMITTED, TRANSACTION_REPEATABLE_READ, "
                    + "TRANSACTION_SERIALIZABLE (or their numbers 1, 2, 4, 8)");
        }

        private static String ms(Duration d) {
            return d == null ? "null" : d.toMillis() + "ms";
        }

        private static void require(String setting, Object value, boolean ok, String allowed) {
            if (!ok) {
                throw new IllegalArgumentException(setting + ": got " + value + "; allowed: " + allowed);
            }
        }

        private static void positive(String setting, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(setting + ": got " + ms(d) + "; allowed: a positive duration");
            }
        }

        private static void notNegative(String setting, Duration d) {
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException(setting + ": got " + ms(d)
                        + "; allowed: 0 (disabled) or a positive duration");
            }
        }
    }
}
