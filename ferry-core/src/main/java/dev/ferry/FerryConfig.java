package dev.ferry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Driver;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import javax.sql.DataSource;

/**
 * Immutable pool configuration. Build one with {@link #builder()}, or from HikariCP-style properties with
 * {@link Builder#properties(Properties)}.
 *
 * <p>Setting names, defaults and meanings follow HikariCP's, so a configuration ports over unchanged. The rules
 * {@link Builder#build()} applies (in {@code ConfigResolver}):
 * <ul>
 *   <li>A setting the user left at its default adapts to one they set, as HikariCP's would (for instance
 *       {@code idleTimeout} is disabled when {@code maxLifetime} is set below it). Each adaptation is logged once
 *       at INFO when the pool starts, naming both settings, and listed in {@link #toString()} and
 *       {@link #adaptations()}.
 *   <li>Two settings the user set that contradict each other, and values outside sane bounds, fail with
 *       {@link IllegalArgumentException} naming the setting, the value and what is allowed. A value the user set
 *       is never replaced by another that behaves differently.
 * </ul>
 * Where Ferry's effective values differ from HikariCP's, README's migration table says so and why.
 */
public final class FerryConfig {

    private final String jdbcUrl;
    private final String username;
    private final String password;
    private final String driverClassName;
    private final Driver driver;
    private final Properties dataSourceProperties;
    private final CredentialsProvider credentialsProvider;
    private final String credentialsProviderClassName;
    private final String poolName;
    private final int maximumPoolSize;
    private final int minimumIdle;
    private final Duration connectionTimeout;
    private final Duration idleTimeout;
    private final Duration maxLifetime;
    private final Duration keepaliveTime;
    private final Duration validationTimeout;
    private final Duration leakDetectionThreshold;
    private final MultipleAcquisition multipleAcquisition;
    private final Duration leakReclaimTimeout;
    private final Duration maxHoldTime;
    private final Duration idleInTransactionTimeout;
    private final Duration initializationFailTimeout;
    private final Duration queryTimeout;
    private final Duration housekeepingPeriod;
    private final Duration shutdownTimeout;
    private final int maxWaiting;
    private final int perUserPoolSize;
    private final int maxUserPools;
    private final int reserve;
    private final Duration queueWaitTarget;
    private final Duration overloadInterval;
    private final boolean shedOnOverload;
    private final Duration reserveTimeout;
    private final dev.ferry.capacity.SizingPolicy sizing;
    private final List<dev.ferry.capacity.Lane> lanes;
    private final Duration sizingPeriod;
    private final boolean serverAwareCap;
    private final boolean registerMbeans;
    private final java.time.Clock clock;
    private final boolean autoCommit;
    private final boolean readOnly;
    private final Integer transactionIsolation;
    private final String catalog;
    private final String schema;
    private final String connectionInitSql;
    private final String connectionTestQuery;
    private final Ticker ticker;
    private final Scheduler scheduler;
    private final String dataSourceClassName;
    private final DataSource dataSource;
    private final String exceptionOverrideClassName;
    private final ExceptionOverride exceptionOverride;
    private final boolean allowPoolSuspension;
    private final ThreadFactory threadFactory;
    private final ScheduledExecutorService scheduledExecutor;
    private final dev.ferry.observe.MetricsTrackerFactory metricsTrackerFactory;
    private final Object metricRegistry;
    private final List<FerryListener> listeners;
    private final List<ConnectionInterceptor> interceptors;
    private final boolean sqlStatistics;
    private final Duration slowStatementThreshold;
    private final List<String> replicas;
    private final Duration banTime;
    private final Duration maxReplicationLag;
    private final boolean failover;
    private final Set<String> explicit;
    private final List<String> adaptations;
    /** The settings as given, for {@link #toBuilder()}. */
    private final Builder source;

    FerryConfig(Builder b, ConfigResolver.Resolved r) {
        this.jdbcUrl = b.jdbcUrl;
        this.username = b.username;
        this.password = b.password;
        this.credentialsProvider = r.credentialsProvider;
        this.credentialsProviderClassName = b.credentialsProviderClassName;
        this.driverClassName = b.driverClassName;
        this.driver = r.driver;
        this.dataSourceProperties = copy(b.dataSourceProperties);
        this.poolName = r.poolName;
        this.maximumPoolSize = r.maximumPoolSize;
        this.minimumIdle = r.minimumIdle;
        this.connectionTimeout = r.connectionTimeout;
        this.idleTimeout = r.idleTimeout;
        this.maxLifetime = b.maxLifetime;
        this.keepaliveTime = r.keepaliveTime;
        this.validationTimeout = r.validationTimeout;
        this.leakDetectionThreshold = b.leakDetectionThreshold;
        this.multipleAcquisition = b.multipleAcquisition;
        this.leakReclaimTimeout = b.leakReclaimTimeout;
        this.maxHoldTime = b.maxHoldTime;
        this.idleInTransactionTimeout = b.idleInTransactionTimeout;
        this.initializationFailTimeout = b.initializationFailTimeout;
        this.queryTimeout = b.queryTimeout;
        this.housekeepingPeriod = b.housekeepingPeriod;
        this.shutdownTimeout = b.shutdownTimeout;
        this.maxWaiting = b.maxWaiting;
        this.perUserPoolSize = b.perUserPoolSize;
        this.maxUserPools = b.maxUserPools;
        this.reserve = b.reserve;
        this.queueWaitTarget = b.queueWaitTarget;
        this.overloadInterval = b.overloadInterval;
        this.shedOnOverload = b.shedOnOverload;
        this.reserveTimeout = b.reserveTimeout;
        this.sizing = b.sizing;
        this.lanes = List.copyOf(b.lanes);
        this.sizingPeriod = b.sizingPeriod;
        this.serverAwareCap = b.serverAwareCap;
        this.registerMbeans = b.registerMbeans;
        this.clock = b.clock;
        this.autoCommit = b.autoCommit;
        this.readOnly = b.readOnly;
        this.transactionIsolation = r.isolation;
        this.catalog = b.catalog;
        this.schema = b.schema;
        this.connectionInitSql = b.connectionInitSql;
        this.connectionTestQuery = b.connectionTestQuery;
        this.ticker = b.ticker;
        this.scheduler = b.scheduler != null ? b.scheduler
                : b.scheduledExecutor == null ? null : Scheduler.of(b.scheduledExecutor);
        this.dataSourceClassName = b.dataSourceClassName;
        this.dataSource = r.dataSource;
        this.exceptionOverrideClassName = b.exceptionOverrideClassName;
        this.exceptionOverride = r.exceptionOverride;
        this.allowPoolSuspension = b.allowPoolSuspension;
        this.threadFactory = b.threadFactory;
        this.scheduledExecutor = b.scheduledExecutor;
        this.metricsTrackerFactory = r.metricsTrackerFactory;
        this.metricRegistry = b.metricRegistry;
        this.listeners = List.copyOf(b.listeners);
        this.interceptors = List.copyOf(b.interceptors);
        this.sqlStatistics = b.sqlStatistics;
        this.slowStatementThreshold = b.slowStatementThreshold;
        this.replicas = List.copyOf(b.replicas);
        this.banTime = b.banTime;
        this.maxReplicationLag = b.maxReplicationLag;
        this.failover = b.failover != null ? b.failover
                : !b.replicas.isEmpty() && b.jdbcUrl != null && b.jdbcUrl.startsWith("jdbc:postgresql:");
        this.explicit = Set.copyOf(b.explicit);
        this.adaptations = List.copyOf(r.adaptations);
        this.source = b.copy();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Any JDBC URL with its passwords and tokens masked, for printing. */
    public static String maskUrl(String jdbcUrl) {
        return Secrets.maskUrl(jdbcUrl);
    }

    /**
     * A builder holding the settings this configuration was built from, to derive a changed copy. Values the user
     * never set stay unset in the copy, so a default adapted here adapts again to whatever the copy changes.
     */
    public Builder toBuilder() {
        Builder b = source.copy();
        b.poolName = poolName; // a copy keeps the name, generated or not
        if (credentialsProviderClassName != null) {
            b.resolvedCredentials = credentialsProvider; // one instance for this pool and those derived from it
        }
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

    /** Where each new connection's credentials come from, or null (username and password are used). */
    public CredentialsProvider credentialsProvider() {
        return credentialsProvider;
    }

    public String driverClassName() {
        return driverClassName;
    }

    /** The driver resolved at build time from driverClassName or the URL; null when a DataSource is used. */
    public Driver driver() {
        return driver;
    }

    /** The {@link DataSource} connections come from (given, or made from dataSourceClassName); else null. */
    public DataSource dataSource() {
        return dataSource;
    }

    public String dataSourceClassName() {
        return dataSourceClassName;
    }

    /** Decides, before Ferry's own rules, whether an SQLException evicts its connection; null for none. */
    public ExceptionOverride exceptionOverride() {
        return exceptionOverride;
    }

    public String exceptionOverrideClassName() {
        return exceptionOverrideClassName;
    }

    /** Whether {@code suspend()}/{@code resume()} are allowed (HikariCP's {@code allowPoolSuspension}). */
    public boolean allowPoolSuspension() {
        return allowPoolSuspension;
    }

    /** Makes the pool's own threads (connector, closer, housekeeper); null for Ferry's daemon threads. */
    public ThreadFactory threadFactory() {
        return threadFactory;
    }

    /** A user-supplied executor for housekeeping; the pool schedules on it and never shuts it down. */
    public ScheduledExecutorService scheduledExecutor() {
        return scheduledExecutor;
    }

    /** Whether the user set this setting (by its HikariCP name), as opposed to leaving its default. */
    public boolean isSet(String setting) {
        return explicit.contains(setting);
    }

    /** Defaults that were changed to fit a value the user set, one line each, as logged at start. */
    public List<String> adaptations() {
        return adaptations;
    }

    /**
     * A copy of the properties passed to the driver, or set on the DataSource's bean properties (username and
     * password are added separately). Values that are not strings are kept as given.
     */
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

    /** Zero: off (the default). Else a connection lent this long is taken back when no statement runs on it. */
    public Duration leakReclaimTimeout() {
        return leakReclaimTimeout;
    }

    /** Zero: off (the default). Else a connection lent this long is taken back, a running statement aborted. */
    public Duration maxHoldTime() {
        return maxHoldTime;
    }

    /** Zero: off (the default). Else a lent connection idle this long inside a transaction is taken back. */
    public Duration idleInTransactionTimeout() {
        return idleInTransactionTimeout;
    }

    /** What a thread asking for a second connection while holding one gets (default ALLOW: no check). */
    public MultipleAcquisition multipleAcquisition() {
        return multipleAcquisition;
    }

    /**
     * How long start-up keeps trying to open the first connection before failing. Zero tries once and starts
     * the pool even if that fails (as HikariCP does); a negative value skips the check.
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

    /**
     * The most connections {@code getConnection(username, password)} holds per user, within maximumPoolSize for
     * the whole data source; 0 (the default): that call is refused, as in HikariCP.
     */
    public int perUserPoolSize() {
        return perUserPoolSize;
    }

    /** The most users with a pool of their own at once (see {@link Builder#maxUserPools}). */
    public int maxUserPools() {
        return maxUserPools;
    }

    /** Connections beyond maximumPoolSize that only CRITICAL callers may open, when no other is free. */
    public int reserve() {
        return reserve;
    }

    /** The queue wait above which, sustained for {@link #overloadInterval()}, the pool is overloaded; 0: off. */
    public Duration queueWaitTarget() {
        return queueWaitTarget;
    }

    public Duration overloadInterval() {
        return overloadInterval;
    }

    /** Whether new NORMAL/BULK callers that would wait fail at once while the pool is overloaded. */
    public boolean shedOnOverload() {
        return shedOnOverload;
    }

    /** How long a CRITICAL caller waits for a normal connection before it opens a reserve one. */
    public Duration reserveTimeout() {
        return reserveTimeout;
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

    /** The sizing policy, or null: HikariCP's sizing (minimumIdle kept, a connection per waiting caller). */
    public dev.ferry.capacity.SizingPolicy sizing() {
        return sizing;
    }

    /** The lanes sharing the pool's connections; empty: no lanes. */
    public List<dev.ferry.capacity.Lane> lanes() {
        return lanes;
    }

    /** How often the sizing policy and the server-aware cap are consulted. */
    public Duration sizingPeriod() {
        return sizingPeriod;
    }

    /**
     * What the pool reports its metrics to (set directly, or made from {@link #metricRegistry()}); null: no metrics,
     * and nothing measured for them.
     */
    public dev.ferry.observe.MetricsTrackerFactory metricsTrackerFactory() {
        return metricsTrackerFactory;
    }

    /** The Micrometer {@code MeterRegistry} given to {@link Builder#metricRegistry}, or null. */
    public Object metricRegistry() {
        return metricRegistry;
    }

    /**
     * The settings a properties file (or {@link Builder#properties}) may name: HikariCP's names and Ferry's,
     * besides {@code dataSource.*} for driver properties.
     */
    public static java.util.List<String> propertyNames() {
        return ConfigProperties.KEYS;
    }

    /**
     * Whether the pool keeps per-statement figures ({@code dev.ferry.observe.SqlStatistics}): set, or implied by a
     * slowStatementThreshold.
     */
    public boolean sqlStatistics() {
        return sqlStatistics || !slowStatementThreshold.isZero();
    }

    /** JDBC URLs of read replicas (same user and settings as the primary), for {@code FerryDataSource.reads()}. */
    public List<String> replicas() {
        return replicas;
    }

    /** How long a replica that failed is left out of read routing (default 30 s). */
    public Duration banTime() {
        return banTime;
    }

    /** A replica further behind than this is left out of read routing; zero (the default): no limit. */
    public Duration maxReplicationLag() {
        return maxReplicationLag;
    }

    /**
     * Whether writes follow the primary to a promoted replica ({@link dev.ferry.ha.PrimaryLocator}): on by default
     * when replicas are configured beside a PostgreSQL jdbcUrl. It applies to connections made through the JDBC
     * driver; a pool on a {@code DataSource} object connects only where that object says.
     */
    public boolean failover() {
        return failover;
    }

    /** Statements slower than this raise {@link PoolEvent.SlowStatement}; zero: none. */
    public Duration slowStatementThreshold() {
        return slowStatementThreshold;
    }

    /** The interceptors added with {@link Builder#interceptor}, in order. */
    public List<ConnectionInterceptor> interceptors() {
        return interceptors;
    }

    /** The listeners added with {@link Builder#listener}, in order (the logging listener is not among them). */
    public List<FerryListener> listeners() {
        return listeners;
    }

    /** Whether the pool registers its JMX MBeans (HikariCP's {@code registerMbeans}; see {@code PoolMBeans}). */
    public boolean registerMbeans() {
        return registerMbeans;
    }

    /** Whether the pool keeps within its fair share of the PostgreSQL server's connections. */
    public boolean serverAwareCap() {
        return serverAwareCap;
    }

    /** The wall clock for calendar-based sizing (day of week, hour), in its zone. */
    public java.time.Clock clock() {
        return clock;
    }

    /** The scheduler for housekeeping and leak checks, or null for one the pool owns. */
    public Scheduler scheduler() {
        return scheduler;
    }

    @Override
    public String toString() {
        return "FerryConfig{poolName=" + poolName + ", jdbcUrl=" + maskedJdbcUrl()
                + ", username=" + username + ", password=" + (password == null ? "null" : Secrets.MASK)
                + (credentialsProvider == null ? "" : ", credentialsProvider=" + (credentialsProviderClassName != null
                        ? credentialsProviderClassName : credentialsProvider.getClass().getName()))
                + (driver != null ? ", driver=" + driver.getClass().getName()
                        : ", dataSource=" + dataSource.getClass().getName())
                + ", dataSourceProperties=" + maskedProperties(dataSourceProperties)
                + ", maximumPoolSize=" + maximumPoolSize + ", minimumIdle=" + minimumIdle
                + ", connectionTimeout=" + connectionTimeout.toMillis() + "ms"
                + ", idleTimeout=" + idleTimeout.toMillis() + "ms"
                + ", maxLifetime=" + maxLifetime.toMillis() + "ms"
                + ", keepaliveTime=" + keepaliveTime.toMillis() + "ms"
                + ", validationTimeout=" + validationTimeout.toMillis() + "ms"
                + ", leakDetectionThreshold=" + leakDetectionThreshold.toMillis() + "ms"
                + (multipleAcquisition == MultipleAcquisition.ALLOW ? "" : ", multipleAcquisition=" + multipleAcquisition)
                + (leakReclaimTimeout.isZero() ? "" : ", leakReclaimTimeout=" + leakReclaimTimeout.toMillis() + "ms")
                + (maxHoldTime.isZero() ? "" : ", maxHoldTime=" + maxHoldTime.toMillis() + "ms")
                + (idleInTransactionTimeout.isZero() ? "" : ", idleInTransactionTimeout="
                        + idleInTransactionTimeout.toMillis() + "ms")
                + ", queryTimeout=" + queryTimeout.toMillis() + "ms"
                + ", maxWaiting=" + maxWaiting
                + (perUserPoolSize == 0 ? "" : ", perUserPoolSize=" + perUserPoolSize + ", maxUserPools=" + maxUserPools)
                + (reserve > 0 ? ", reserve=" + reserve + ", reserveTimeout=" + reserveTimeout.toMillis() + "ms" : "")
                + (queueWaitTarget.isZero() ? "" : ", queueWaitTarget=" + queueWaitTarget.toMillis() + "ms, overloadInterval="
                        + overloadInterval.toMillis() + "ms, shedOnOverload=" + shedOnOverload)
                + (sizing == null ? "" : ", sizing=" + sizing + ", sizingPeriod=" + sizingPeriod.toMillis() + "ms")
                + (serverAwareCap ? ", serverAwareCap=true" : "")
                + (registerMbeans ? ", registerMbeans=true" : "")
                + (metricsTrackerFactory == null ? "" : ", metrics=" + metricsTrackerFactory.getClass().getName())
                + (listeners.isEmpty() ? "" : ", listeners=" + listeners.size())
                + (interceptors.isEmpty() ? "" : ", interceptors=" + interceptors.stream()
                        .map(i -> i.getClass().getName()).toList())
                + (sqlStatistics() ? ", sqlStatistics=true" : "")
                + (replicas.isEmpty() ? "" : ", replicas=" + replicas.stream().map(FerryConfig::maskUrl).toList()
                        + ", banTime=" + banTime.toMillis() + "ms, failover=" + failover
                        + (maxReplicationLag.isZero() ? "" : ", maxReplicationLag=" + maxReplicationLag.toMillis() + "ms"))
                + (slowStatementThreshold.isZero() ? "" : ", slowStatementThreshold="
                        + slowStatementThreshold.toMillis() + "ms")
                + (lanes.isEmpty() ? "" : ", lanes=" + lanes)
                + ", autoCommit=" + autoCommit + ", readOnly=" + readOnly
                + ", transactionIsolation=" + transactionIsolation + ", catalog=" + catalog + ", schema=" + schema
                + (allowPoolSuspension ? ", allowPoolSuspension=true" : "")
                + (exceptionOverride != null ? ", exceptionOverride=" + exceptionOverride.getClass().getName() : "")
                + (adaptations.isEmpty() ? "" : ", adapted=" + adaptations)
                + "}";
    }

    static String maskedProperties(Properties props) {
        StringBuilder s = new StringBuilder("{");
        for (Map.Entry<Object, Object> e : props.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (s.length() > 1) {
                s.append(", ");
            }
            s.append(key).append('=').append(Secrets.shown(key, e.getValue()));
        }
        return s.append('}').toString();
    }

    /** Copies every entry, strings or not (HikariCP passes non-String values through to the DataSource). */
    static Properties copy(Properties source) {
        Properties p = new Properties();
        if (source != null) {
            for (String key : source.stringPropertyNames()) { // includes defaults of a layered Properties
                p.put(key, source.getProperty(key));
            }
            for (Map.Entry<Object, Object> e : source.entrySet()) {
                p.put(e.getKey(), e.getValue());
            }
        }
        return p;
    }

    /**
     * Collects settings; {@link #build()} validates them all. Durations must be given with
     * {@link Duration}; the {@code FerryDataSource} bean setters take HikariCP's milliseconds. Each setter records
     * that the user set the value, which decides whether it may adapt to another (see the class notes).
     */
    public static final class Builder {
        String jdbcUrl;
        String username;
        String password;
        CredentialsProvider credentialsProvider;
        String credentialsProviderClassName;
        /** The instance a built configuration made of credentialsProviderClassName, kept by its copies. */
        CredentialsProvider resolvedCredentials;
        String driverClassName;
        String dataSourceClassName;
        DataSource dataSource;
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
        MultipleAcquisition multipleAcquisition = MultipleAcquisition.ALLOW;
        Duration leakReclaimTimeout = Duration.ZERO;
        Duration maxHoldTime = Duration.ZERO;
        Duration idleInTransactionTimeout = Duration.ZERO;
        Duration initializationFailTimeout = Duration.ofMillis(1);
        Duration queryTimeout = Duration.ZERO;
        Duration housekeepingPeriod = Duration.ofSeconds(30);
        Duration shutdownTimeout = Duration.ofSeconds(10);
        int maxWaiting = Integer.MAX_VALUE;
        int perUserPoolSize;
        int maxUserPools = 8;
        int reserve;
        Duration queueWaitTarget = Duration.ZERO;
        Duration overloadInterval = Duration.ofMillis(100);
        boolean shedOnOverload;
        Duration reserveTimeout = Duration.ZERO;
        dev.ferry.capacity.SizingPolicy sizing;
        final List<dev.ferry.capacity.Lane> lanes = new java.util.ArrayList<>();
        Duration sizingPeriod = Duration.ofSeconds(1);
        boolean serverAwareCap;
        boolean registerMbeans;
        java.time.Clock clock = java.time.Clock.systemDefaultZone();
        boolean autoCommit = true;
        boolean readOnly;
        String transactionIsolation;
        String catalog;
        String schema;
        String connectionInitSql;
        String connectionTestQuery;
        String exceptionOverrideClassName;
        ExceptionOverride exceptionOverride;
        boolean allowPoolSuspension;
        ThreadFactory threadFactory;
        ScheduledExecutorService scheduledExecutor;
        dev.ferry.observe.MetricsTrackerFactory metricsTrackerFactory;
        Object metricRegistry;
        final List<FerryListener> listeners = new java.util.ArrayList<>();
        final List<ConnectionInterceptor> interceptors = new java.util.ArrayList<>();
        boolean sqlStatistics;
        Duration slowStatementThreshold = Duration.ZERO;
        final List<String> replicas = new java.util.ArrayList<>();
        Duration banTime = Duration.ofSeconds(30);
        Duration maxReplicationLag = Duration.ZERO;
        Boolean failover;
        Ticker ticker = Ticker.system();
        Scheduler scheduler;
        /** HikariCP names of the settings the user set. */
        final Set<String> explicit = new HashSet<>();

        Builder() {
        }

        /** An independent copy of every setting, and of which ones the user set. */
        Builder copy() {
            Builder c = new Builder();
            c.jdbcUrl = jdbcUrl;
            c.username = username;
            c.password = password;
            c.credentialsProvider = credentialsProvider;
            c.credentialsProviderClassName = credentialsProviderClassName;
            c.resolvedCredentials = resolvedCredentials;
            c.driverClassName = driverClassName;
            c.dataSourceClassName = dataSourceClassName;
            c.dataSource = dataSource;
            c.dataSourceProperties = FerryConfig.copy(dataSourceProperties);
            c.poolName = poolName;
            c.maximumPoolSize = maximumPoolSize;
            c.minimumIdle = minimumIdle;
            c.connectionTimeout = connectionTimeout;
            c.idleTimeout = idleTimeout;
            c.maxLifetime = maxLifetime;
            c.keepaliveTime = keepaliveTime;
            c.validationTimeout = validationTimeout;
            c.leakDetectionThreshold = leakDetectionThreshold;
            c.multipleAcquisition = multipleAcquisition;
            c.leakReclaimTimeout = leakReclaimTimeout;
            c.maxHoldTime = maxHoldTime;
            c.idleInTransactionTimeout = idleInTransactionTimeout;
            c.initializationFailTimeout = initializationFailTimeout;
            c.queryTimeout = queryTimeout;
            c.housekeepingPeriod = housekeepingPeriod;
            c.shutdownTimeout = shutdownTimeout;
            c.maxWaiting = maxWaiting;
            c.perUserPoolSize = perUserPoolSize;
            c.maxUserPools = maxUserPools;
            c.reserve = reserve;
            c.queueWaitTarget = queueWaitTarget;
            c.overloadInterval = overloadInterval;
            c.shedOnOverload = shedOnOverload;
            c.reserveTimeout = reserveTimeout;
            c.sizing = sizing;
            c.lanes.addAll(lanes);
            c.sizingPeriod = sizingPeriod;
            c.serverAwareCap = serverAwareCap;
            c.registerMbeans = registerMbeans;
            c.clock = clock;
            c.autoCommit = autoCommit;
            c.readOnly = readOnly;
            c.transactionIsolation = transactionIsolation;
            c.catalog = catalog;
            c.schema = schema;
            c.connectionInitSql = connectionInitSql;
            c.connectionTestQuery = connectionTestQuery;
            c.exceptionOverrideClassName = exceptionOverrideClassName;
            c.exceptionOverride = exceptionOverride;
            c.allowPoolSuspension = allowPoolSuspension;
            c.threadFactory = threadFactory;
            c.scheduledExecutor = scheduledExecutor;
            c.metricsTrackerFactory = metricsTrackerFactory;
            c.metricRegistry = metricRegistry;
            c.listeners.addAll(listeners);
            c.interceptors.addAll(interceptors);
            c.sqlStatistics = sqlStatistics;
            c.slowStatementThreshold = slowStatementThreshold;
            c.replicas.addAll(replicas);
            c.banTime = banTime;
            c.maxReplicationLag = maxReplicationLag;
            c.failover = failover;
            c.ticker = ticker;
            c.scheduler = scheduler;
            c.explicit.addAll(explicit);
            return c;
        }

        private Builder set(String setting) {
            explicit.add(setting);
            return this;
        }

        public Builder jdbcUrl(String jdbcUrl) {
            this.jdbcUrl = jdbcUrl;
            return set("jdbcUrl");
        }

        public Builder username(String username) {
            this.username = username;
            return set("username");
        }

        public Builder password(String password) {
            this.password = password;
            return set("password");
        }

        /**
         * Credentials asked for every new connection, for rotating secrets and expiring tokens (see
         * {@link CredentialsProvider}); instead of a password, which may not be set with it (nor one in jdbcUrl or
         * the driver properties). A username set here is used when the provider gives none.
         */
        public Builder credentialsProvider(CredentialsProvider credentialsProvider) {
            this.credentialsProvider = java.util.Objects.requireNonNull(credentialsProvider, "credentialsProvider");
            return set("credentialsProvider");
        }

        /**
         * HikariCP's {@code credentialsProviderClassName}: a class with a public no-argument constructor that
         * implements {@link CredentialsProvider}, or HikariCP 7's {@code com.zaxxer.hikari.HikariCredentialsProvider}
         * (used as it is: its {@code getCredentials()} is called for every new connection, by reflection, so HikariCP
         * need not be on the class path otherwise). Instantiated when the configuration is built; as
         * {@link #credentialsProvider}, not with it or with a password.
         */
        public Builder credentialsProviderClassName(String className) {
            this.credentialsProviderClassName = className;
            this.resolvedCredentials = null;
            return set("credentialsProviderClassName");
        }

        public Builder driverClassName(String driverClassName) {
            this.driverClassName = driverClassName;
            return set("driverClassName");
        }

        /**
         * A {@link DataSource} class to instantiate and configure from {@link #dataSourceProperties} as bean
         * properties (HikariCP's {@code dataSourceClassName}), instead of a driver and jdbcUrl.
         */
        public Builder dataSourceClassName(String dataSourceClassName) {
            this.dataSourceClassName = dataSourceClassName;
            return set("dataSourceClassName");
        }

        /** A ready {@link DataSource} to take connections from (HikariCP's {@code setDataSource}). */
        public Builder dataSource(DataSource dataSource) {
            this.dataSource = dataSource;
            return set("dataSource");
        }

        /**
         * Properties passed to the driver on every connect (or set on the DataSource's bean properties); replaces
         * any set before. Values need not be strings: a DataSource gets them as they are.
         */
        public Builder dataSourceProperties(Properties properties) {
            this.dataSourceProperties = FerryConfig.copy(properties);
            return set("dataSourceProperties");
        }

        /** Adds one property passed to the driver on every connect. */
        public Builder dataSourceProperty(String key, Object value) {
            this.dataSourceProperties.put(key, value);
            return set("dataSourceProperties");
        }

        public Builder poolName(String poolName) {
            this.poolName = poolName;
            return set("poolName");
        }

        public Builder maximumPoolSize(int maximumPoolSize) {
            this.maximumPoolSize = maximumPoolSize;
            return set("maximumPoolSize");
        }

        /** Idle connections kept ready; defaults to maximumPoolSize (a fixed-size pool), as in HikariCP. */
        public Builder minimumIdle(int minimumIdle) {
            this.minimumIdle = minimumIdle;
            return set("minimumIdle");
        }

        /** How long getConnection() waits; zero means no limit, as in HikariCP. */
        public Builder connectionTimeout(Duration connectionTimeout) {
            this.connectionTimeout = connectionTimeout;
            return set("connectionTimeout");
        }

        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
            return set("idleTimeout");
        }

        public Builder maxLifetime(Duration maxLifetime) {
            this.maxLifetime = maxLifetime;
            return set("maxLifetime");
        }

        public Builder keepaliveTime(Duration keepaliveTime) {
            this.keepaliveTime = keepaliveTime;
            return set("keepaliveTime");
        }

        public Builder validationTimeout(Duration validationTimeout) {
            this.validationTimeout = validationTimeout;
            return set("validationTimeout");
        }

        public Builder leakDetectionThreshold(Duration leakDetectionThreshold) {
            this.leakDetectionThreshold = leakDetectionThreshold;
            return set("leakDetectionThreshold");
        }

        /**
         * Opt-in leak reclaim: a connection still lent after this long is taken back when no statement is running
         * on it (looked at again every quarter of a second until then): its transaction rolled back, the physical
         * connection closed, and the borrower's handle made unusable with an error naming the timeout and where it
         * was borrowed; counted and announced ({@link PoolEvent.ConnectionReclaimed}). Zero (the default) is off;
         * else at least 1 s.
         */
        public Builder leakReclaimTimeout(Duration leakReclaimTimeout) {
            this.leakReclaimTimeout = leakReclaimTimeout;
            return set("leakReclaimTimeout");
        }

        /**
         * A cap on how long a connection may be held (as Oracle UCP's timeToLiveConnectionTimeout): reached, the
         * connection is taken back as leak reclaim does, and a statement running on it is aborted with the
         * connection. Zero (the default) is off; else at least 1 s.
         */
        public Builder maxHoldTime(Duration maxHoldTime) {
            this.maxHoldTime = maxHoldTime;
            return set("maxHoldTime");
        }

        /**
         * A cap on how long a lent connection may sit idle inside an open transaction (as PgBouncer's
         * {@code idle_transaction_timeout}): a transaction is open from the first statement with autocommit off
         * until commit, rollback or autocommit on; idle means no statement running since the last one ended. Past
         * it the connection is taken back as leak reclaim does (its transaction rolled back by aborting it). Zero
         * (the default) is off; else at least 1 s.
         */
        public Builder idleInTransactionTimeout(Duration idleInTransactionTimeout) {
            this.idleInTransactionTimeout = idleInTransactionTimeout;
            return set("idleInTransactionTimeout");
        }

        /**
         * The double-borrow guard: what a thread that holds a connection of this pool gets when it asks for
         * another (see {@link MultipleAcquisition}). Default ALLOW.
         */
        public Builder multipleAcquisition(MultipleAcquisition multipleAcquisition) {
            this.multipleAcquisition = java.util.Objects.requireNonNull(multipleAcquisition, "multipleAcquisition");
            return set("multipleAcquisition");
        }

        public Builder initializationFailTimeout(Duration initializationFailTimeout) {
            this.initializationFailTimeout = initializationFailTimeout;
            return set("initializationFailTimeout");
        }

        /** Default statement timeout, in whole seconds (JDBC's resolution); zero means none. */
        public Builder queryTimeout(Duration queryTimeout) {
            this.queryTimeout = queryTimeout;
            return set("queryTimeout");
        }

        public Builder housekeepingPeriod(Duration housekeepingPeriod) {
            this.housekeepingPeriod = housekeepingPeriod;
            return set("housekeepingPeriod");
        }

        public Builder shutdownTimeout(Duration shutdownTimeout) {
            this.shutdownTimeout = shutdownTimeout;
            return set("shutdownTimeout");
        }

        /** Callers allowed to wait at once; beyond it getConnection() fails at once. 0 means never wait. */
        public Builder maxWaiting(int maxWaiting) {
            this.maxWaiting = maxWaiting;
            return set("maxWaiting");
        }

        /**
         * Serves {@code getConnection(username, password)} from a pool per user (and password) of at most this many
         * connections, all of them within maximumPoolSize together with the main pool's: a user whose callers wait
         * while the budget is full gets a place freed by closing an idle connection of another user or of the main
         * pool, or one that comes back to a pool with nobody waiting. Default 0: the call is refused with
         * {@code SQLFeatureNotSupportedException}, as in HikariCP. Needs a jdbcUrl that names no user or password
         * (the driver would prefer the URL's to the caller's).
         */
        public Builder perUserPoolSize(int perUserPoolSize) {
            this.perUserPoolSize = perUserPoolSize;
            return set("perUserPoolSize");
        }

        /**
         * The most users with a pool of their own at once (default 8). A new user beyond it takes the place of the
         * pool used longest ago with nothing lent and nobody waiting, which is closed; if every one is busy, the
         * call fails at once (SQLState 53300). Only with {@link #perUserPoolSize}.
         */
        public Builder maxUserPools(int maxUserPools) {
            this.maxUserPools = maxUserPools;
            return set("maxUserPools");
        }

        /**
         * Turns a data source's settings into those of one user's pool ({@link #perUserPoolSize}): that user's
         * credentials (no provider), at most perUserPoolSize connections opened on demand and closed after
         * idleTimeout (lowered to 1 s below maxLifetime where it would not fire first, since this pool shrinks),
         * and none of the main pool's lanes, reserve, sizing, server-aware cap, replicas, start-up check,
         * maxWaiting, overload shedding, metrics or MBeans. The pool name given is used as it is.
         */
        public Builder forUser(String poolName, String username, String password) {
            this.poolName = poolName;
            this.username = username;
            this.password = password;
            this.credentialsProvider = null;
            this.credentialsProviderClassName = null;
            this.resolvedCredentials = null;
            this.dataSourceProperties.remove("user");
            this.dataSourceProperties.remove("password");
            this.maximumPoolSize = perUserPoolSize;
            this.minimumIdle = 0;
            this.perUserPoolSize = 0;
            this.maxUserPools = 8;
            this.lanes.clear();
            this.reserve = 0;
            this.sizing = null;
            this.serverAwareCap = false;
            this.replicas.clear();
            this.failover = null;
            this.initializationFailTimeout = Duration.ofMillis(-1);
            this.maxWaiting = Integer.MAX_VALUE;
            this.queueWaitTarget = Duration.ZERO;
            this.shedOnOverload = false;
            if (maxLifetime != null && !maxLifetime.isZero() && idleTimeout != null && !idleTimeout.isZero()
                    && idleTimeout.plusSeconds(1).compareTo(maxLifetime) > 0) {
                this.idleTimeout = maxLifetime.compareTo(Duration.ofSeconds(1)) > 0 ? maxLifetime.minusSeconds(1)
                        : Duration.ZERO;
                explicit.add("idleTimeout");
            }
            this.metricsTrackerFactory = null;
            this.metricRegistry = null;
            this.registerMbeans = false;
            this.explicit.removeAll(List.of("perUserPoolSize", "maxUserPools", "lanes", "reserve", "reserveTimeout",
                    "maxWaiting", "queueWaitTarget", "overloadInterval", "shedOnOverload",
                    "sizing", "sizingPeriod", "serverAwareCap", "failover", "credentialsProvider", "credentialsProviderClassName",
                    "metricRegistry",
                    "metricsTrackerFactory", "registerMbeans", "banTime", "maxReplicationLag"));
            this.explicit.addAll(List.of("poolName", "username", "password", "maximumPoolSize", "minimumIdle",
                    "initializationFailTimeout"));
            return this;
        }

        /**
         * The emergency reserve: up to this many connections beyond maximumPoolSize, opened only for
         * {@link Priority#CRITICAL} callers when no other connection is free (after {@link #reserveTimeout}); when
         * returned, one goes to a waiting CRITICAL caller or is closed. Default 0 (no reserve). PgBouncer's
         * {@code reserve_pool_size}, in process.
         */
        public Builder reserve(int reserve) {
            this.reserve = reserve;
            return set("reserve");
        }

        /**
         * Overload detection (CoDel): when every caller served for {@link #overloadInterval} waited at least this
         * long for a connection, the pool is overloaded (logged once per episode; see {@link #shedOnOverload}).
         * Default 0: off.
         */
        public Builder queueWaitTarget(Duration queueWaitTarget) {
            this.queueWaitTarget = queueWaitTarget;
            return set("queueWaitTarget");
        }

        /** How long waits must stay above {@link #queueWaitTarget} before the pool counts as overloaded (100 ms). */
        public Builder overloadInterval(Duration overloadInterval) {
            this.overloadInterval = overloadInterval;
            return set("overloadInterval");
        }

        /**
         * While overloaded, fail new NORMAL and BULK callers that would have to wait at once (SQLState 53300)
         * instead of letting them queue out their timeout; CRITICAL callers are never shed. Needs
         * {@link #queueWaitTarget}. Default false.
         */
        public Builder shedOnOverload(boolean shedOnOverload) {
            this.shedOnOverload = shedOnOverload;
            return set("shedOnOverload");
        }

        /**
         * How long a CRITICAL caller waits for a normal connection before it uses the reserve (PgBouncer's
         * {@code reserve_pool_timeout}); default 0: at once.
         */
        public Builder reserveTimeout(Duration reserveTimeout) {
            this.reserveTimeout = reserveTimeout;
            return set("reserveTimeout");
        }

        /**
         * How the pool sizes itself within [minimumIdle, maximumPoolSize]: {@code SizingPolicy.fixed(n)},
         * {@code reactive()}, a {@code ScheduledSizing}, a {@code ForecastSizing}, or several combined. Default
         * none: HikariCP's sizing.
         */
        public Builder sizing(dev.ferry.capacity.SizingPolicy sizing) {
            this.sizing = sizing;
            return set("sizing");
        }

        /**
         * A lane: a named share of the pool's connections, borrowed through {@code dataSource.lane(name)}, with
         * a guaranteed {@code minimum}, a {@code cap} and weight 1. Callers that name no lane use the lane
         * "main" (minimum 0, cap maximumPoolSize, weight 1, unless configured). See {@code LaneBudget}.
         */
        public Builder lane(String name, int minimum, int cap) {
            return lane(name, minimum, cap, 1);
        }

        /** A lane with a weight for the capacity above the minimums (two busy lanes share it by weight). */
        public Builder lane(String name, int minimum, int cap, int weight) {
            lanes.add(new dev.ferry.capacity.Lane(name, minimum, cap, weight));
            return set("lanes");
        }

        /** How often the sizing policy and the server-aware cap are consulted (default 1 s). */
        public Builder sizingPeriod(Duration sizingPeriod) {
            this.sizingPeriod = sizingPeriod;
            return set("sizingPeriod");
        }

        /**
         * Registers the pool's MBeans with the platform MBean server while it runs (HikariCP's name): the pool's
         * figures and controls as {@code dev.ferry:type=Pool,name=<poolName>}, and one
         * {@code dev.ferry:type=Lane,pool=<poolName>,name=<lane>} per lane.
         */
        public Builder registerMbeans(boolean registerMbeans) {
            this.registerMbeans = registerMbeans;
            return set("registerMbeans");
        }

        /**
         * Keep this pool within its fair share of a PostgreSQL server's connections, counting the other
         * instances of the same application ({@code ServerShare}); re-read every sizing period. Default false.
         */
        public Builder serverAwareCap(boolean serverAwareCap) {
            this.serverAwareCap = serverAwareCap;
            return set("serverAwareCap");
        }

        /** The wall clock (and zone) for calendar-based sizing; tests set a fixed one. Default the system's. */
        public Builder clock(java.time.Clock clock) {
            this.clock = clock;
            return set("clock");
        }

        public Builder autoCommit(boolean autoCommit) {
            this.autoCommit = autoCommit;
            return set("autoCommit");
        }

        public Builder readOnly(boolean readOnly) {
            this.readOnly = readOnly;
            return set("readOnly");
        }

        /**
         * The isolation level for every connection: a {@code Connection} constant name such as
         * {@code TRANSACTION_READ_COMMITTED} (the {@code TRANSACTION_} prefix is optional) or its number.
         */
        public Builder transactionIsolation(String transactionIsolation) {
            this.transactionIsolation = transactionIsolation;
            return set("transactionIsolation");
        }

        public Builder catalog(String catalog) {
            this.catalog = catalog;
            return set("catalog");
        }

        public Builder schema(String schema) {
            this.schema = schema;
            return set("schema");
        }

        public Builder connectionInitSql(String connectionInitSql) {
            this.connectionInitSql = connectionInitSql;
            return set("connectionInitSql");
        }

        public Builder connectionTestQuery(String connectionTestQuery) {
            this.connectionTestQuery = connectionTestQuery;
            return set("connectionTestQuery");
        }

        /**
         * A class deciding whether an SQLException evicts its connection: an {@link ExceptionOverride}, or a
         * HikariCP {@code SQLExceptionOverride} (called by reflection, so HikariCP need not be present at build).
         */
        public Builder exceptionOverrideClassName(String className) {
            this.exceptionOverrideClassName = className;
            return set("exceptionOverrideClassName");
        }

        /** An {@link ExceptionOverride} instance; see {@link #exceptionOverrideClassName}. */
        public Builder exceptionOverride(ExceptionOverride override) {
            this.exceptionOverride = override;
            return set("exceptionOverride");
        }

        /** Allows {@code FerryPool.suspend()} and {@code resume()}; off by default, as in HikariCP. */
        public Builder allowPoolSuspension(boolean allow) {
            this.allowPoolSuspension = allow;
            return set("allowPoolSuspension");
        }

        /** Makes the pool's own threads; by default Ferry makes daemon threads named after the pool. */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = threadFactory;
            return set("threadFactory");
        }

        /** Runs housekeeping and leak checks; the pool never shuts it down. Overridden by {@link #scheduler}. */
        public Builder scheduledExecutor(ScheduledExecutorService executor) {
            this.scheduledExecutor = executor;
            return set("scheduledExecutor");
        }

        /**
         * Reports the pool's metrics (and those of batched lookups and writers built on it) to this factory
         * (HikariCP's {@code metricsTrackerFactory}). Not together with {@link #metricRegistry}.
         */
        public Builder metricsTrackerFactory(dev.ferry.observe.MetricsTrackerFactory factory) {
            this.metricsTrackerFactory = factory;
            return set("metricsTrackerFactory");
        }

        /**
         * A Micrometer {@code MeterRegistry} to report metrics to (HikariCP's {@code metricRegistry}): needs
         * {@code dev.ferry:ferry-micrometer} on the class path. Typed {@code Object} so that core does not depend on
         * Micrometer. Not together with {@link #metricsTrackerFactory}.
         */
        public Builder metricRegistry(Object registry) {
            this.metricRegistry = registry;
            return set("metricRegistry");
        }

        /**
         * Keeps per-statement figures (calls, errors, rows, mean/p95/max time per fingerprint): see
         * {@code FerryPool.sqlStatistics()}. Off by default: it times every execute (README, Metrics, has the cost).
         */
        public Builder sqlStatistics(boolean enabled) {
            this.sqlStatistics = enabled;
            return set("sqlStatistics");
        }

        /**
         * Statements slower than this raise a {@link PoolEvent.SlowStatement} (logged, rate-limited) and count in
         * {@code ferry.statements.slow}; turns sqlStatistics on. Zero (the default): off.
         */
        public Builder slowStatementThreshold(Duration threshold) {
            this.slowStatementThreshold = threshold;
            return set("slowStatementThreshold");
        }

        /**
         * Adds a PostgreSQL read replica, by JDBC URL (the user, password and pool settings are the primary's).
         * {@code FerryDataSource.reads()} sends reads to a healthy replica, the least busy, else to the primary.
         */
        public Builder replica(String jdbcUrl) {
            this.replicas.add(java.util.Objects.requireNonNull(jdbcUrl, "jdbcUrl"));
            return set("replicas");
        }

        /** For a replica's own pool: the same settings, no replicas of its own, no failover, no per-user pools. */
        public Builder forReplica() {
            this.replicas.clear();
            this.failover = null;
            this.explicit.remove("failover");
            if (perUserPoolSize > maximumPoolSize && !explicit.contains("maximumPoolSize")) {
                maximumPoolSize = perUserPoolSize; // the primary's maximum was raised to it: keep the replica's alike
            }
            this.perUserPoolSize = 0; // getConnection(username, password) is served by the primary's data source
            this.explicit.remove("perUserPoolSize");
            this.explicit.remove("maxUserPools");
            return this;
        }

        /**
         * Whether writes follow the primary to a promoted replica (default: on when replicas are configured).
         * Each new connection of the writing pool is checked with {@code pg_is_in_recovery()}; when the primary is
         * gone or demoted, the replicas are probed and the one promoted takes the writes
         * ({@link dev.ferry.ha.PrimaryLocator}). {@code false}: writes stay on {@code jdbcUrl}.
         */
        public Builder failover(boolean failover) {
            this.failover = failover;
            return set("failover");
        }

        /** How long a replica that failed is left out of read routing (default 30 s). */
        public Builder banTime(Duration banTime) {
            this.banTime = banTime;
            return set("banTime");
        }

        /** Replicas further behind than this are left out of read routing (default 0: no limit). */
        public Builder maxReplicationLag(Duration lag) {
            this.maxReplicationLag = lag;
            return set("maxReplicationLag");
        }

        /** Adds a listener for the pool's {@link PoolEvent}s (the rate-limited logging listener is always on). */
        public Builder listener(FerryListener listener) {
            this.listeners.add(java.util.Objects.requireNonNull(listener, "listener"));
            return set("listeners");
        }

        /**
         * Adds a hook into each connection's life: created, lent, returned, destroyed (see
         * {@link ConnectionInterceptor}). Several run in the order added (create, acquire), reversed for return
         * and destroy.
         */
        public Builder interceptor(ConnectionInterceptor interceptor) {
            this.interceptors.add(java.util.Objects.requireNonNull(interceptor, "interceptor"));
            return set("interceptors");
        }

        public Builder ticker(Ticker ticker) {
            this.ticker = ticker;
            return set("ticker");
        }

        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = scheduler;
            return set("scheduler");
        }

        /**
         * Applies HikariCP-style properties: each key is a setting name ({@code jdbcUrl}, {@code maximumPoolSize},
         * {@code connectionTimeout} in milliseconds, ...), and {@code dataSource.x} keys become data source
         * properties, exactly as {@code new HikariConfig(properties)} reads them. An unknown key fails, naming it.
         */
        public Builder properties(Properties properties) {
            ConfigProperties.apply(this, properties);
            return this;
        }

        /** Reads a properties file (HikariCP's format) from the file system, or from the class path if absent. */
        public Builder propertiesFile(String path) {
            Properties p = new Properties();
            try (InputStream in = open(path)) {
                p.load(in);
            } catch (IOException e) {
                throw new IllegalArgumentException("propertiesFile: could not read '" + path + "': " + e.getMessage(),
                        e);
            }
            return properties(p);
        }

        private static InputStream open(String path) throws IOException {
            Path file = Path.of(path);
            if (Files.isRegularFile(file)) {
                return Files.newInputStream(file);
            }
            InputStream in = FerryConfig.class.getResourceAsStream(path.startsWith("/") ? path : "/" + path);
            if (in == null) {
                throw new IOException("no such file, and no such class path resource");
            }
            return in;
        }

        /** Validates every setting, adapts unset defaults, and returns the immutable configuration. */
        public FerryConfig build() {
            return new FerryConfig(this, ConfigResolver.resolve(this));
        }
    }
}
