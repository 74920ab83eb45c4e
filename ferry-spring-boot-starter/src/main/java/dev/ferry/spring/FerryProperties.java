package dev.ferry.spring;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Ferry's pool settings under {@code spring.datasource.ferry.*}, with Boot's relaxed names
 * ({@code maximum-pool-size}, {@code connection-timeout=5s}). The URL, user, password and driver come from
 * {@code spring.datasource.*}; {@code spring.datasource.hikari.*} keys are honoured too, and these win over
 * them. A setting left unset keeps Ferry's default (and Ferry's adaptations: an unset minimumIdle follows
 * maximumPoolSize, as in HikariCP). Values are checked by Ferry when the pool is built: an invalid one fails
 * start-up with a message naming the property.
 */
@ConfigurationProperties("spring.datasource.ferry")
public class FerryProperties {

    /** Pool name, in logs, metrics and JMX (default: ferry-N). */
    private String poolName;
    /** Most connections the pool opens (default 10). */
    private Integer maximumPoolSize;
    /** Idle connections kept ready (default: maximumPoolSize). */
    private Integer minimumIdle;
    /** How long getConnection waits (default 30s). */
    private Duration connectionTimeout;
    /** How long a connection may sit idle above minimumIdle (default 10m). */
    private Duration idleTimeout;
    /** Longest life of a connection (default 30m). */
    private Duration maxLifetime;
    /** How often idle connections are checked (default 2m). */
    private Duration keepaliveTime;
    /** How long a validation may take (default 5s). */
    private Duration validationTimeout;
    /** A connection out longer than this is reported as a leak (default 0: off). */
    private Duration leakDetectionThreshold;
    /** A connection still lent after this is taken back between statements (default 0: off; else at least 1s). */
    private Duration leakReclaimTimeout;
    /** A connection lent this long is taken back, a running statement aborted (default 0: off; else at least 1s). */
    private Duration maxHoldTime;
    /** A lent connection idle this long inside a transaction is taken back (default 0: off; else at least 1s). */
    private Duration idleInTransactionTimeout;
    /** What a thread holding a connection gets when it asks for another: ALLOW (default), WARN or FAIL. */
    private dev.ferry.MultipleAcquisition multipleAcquisition;
    /** How long start-up tries to open the first connection (default 1ms: fail fast; negative: do not try). */
    private Duration initializationFailTimeout;
    /** Default statement timeout set on every statement (default 0: none). */
    private Duration queryTimeout;
    /** How often housekeeping runs (default 30s). */
    private Duration housekeepingPeriod;
    /** How long close() waits for lent connections (default 10s). */
    private Duration shutdownTimeout;
    /** Callers that may wait at once before getConnection fails fast (default: no limit). */
    private Integer maxWaiting;
    /** Connections per user for getConnection(username, password); 0 refuses that call. */
    private Integer perUserPoolSize;
    /** The most users with a pool of their own at once. */
    private Integer maxUserPools;
    /** Emergency connections above maximumPoolSize for CRITICAL callers (default 0). */
    private Integer reserve;
    /** How long a CRITICAL caller waits for a normal connection before using the reserve (default 0). */
    private Duration reserveTimeout;
    /** Queue wait above which the pool counts as overloaded (default 0: off). */
    private Duration queueWaitTarget;
    /** How long the queue wait must stay above the target (default 100ms). */
    private Duration overloadInterval;
    /** Refuse NORMAL and BULK callers at once while overloaded (default false). */
    private Boolean shedOnOverload;
    /** Sizing policy: none (HikariCP's fixed pool) or reactive (default none). */
    private String sizing;
    /** How often the sizing policy runs (default 1s). */
    private Duration sizingPeriod;
    /** Cap the pool by the PostgreSQL server's max_connections share (default false). */
    private Boolean serverAwareCap;
    /** Register the pool's JMX MBeans (default false). */
    private Boolean registerMbeans;
    /** Default autocommit of connections (default true). */
    private Boolean autoCommit;
    /** Default read-only of connections (default false). */
    private Boolean readOnly;
    /** Default isolation, as TRANSACTION_READ_COMMITTED and the like (default: the driver's). */
    private String transactionIsolation;
    /** Default catalog (default: the driver's). */
    private String catalog;
    /** Default schema (default: the driver's). */
    private String schema;
    /** SQL run on every new connection. */
    private String connectionInitSql;
    /** Validation query instead of Connection.isValid (not needed with JDBC 4 drivers). */
    private String connectionTestQuery;
    /** An ExceptionOverride (or HikariCP SQLExceptionOverride) class deciding evictions. */
    private String exceptionOverrideClassName;
    /** Allow FerryPool.suspend() and resume() (default false). */
    private Boolean allowPoolSuspension;
    /** Keep per-statement figures (default false). */
    private Boolean sqlStatistics;
    /** Statements slower than this raise a SlowStatement event (default 0: off). */
    private Duration slowStatementThreshold;
    /** Driver properties (as HikariCP's dataSourceProperties). */
    private Map<String, String> dataSourceProperties = new LinkedHashMap<>();
    /** Lanes by name: a guaranteed minimum, a cap and a weight each. */
    private Map<String, Lane> lanes = new LinkedHashMap<>();
    /** Percentile histograms on the per-borrow timers, when Micrometer is present (default false, as HikariCP). */
    private boolean percentileHistograms;

    /** One lane's settings. */
    public static class Lane {
        /** Connections the lane always gets when it asks (default 0). */
        private int minimum;
        /** Most connections the lane may hold (default: maximumPoolSize). */
        private Integer cap;
        /** Its share of the connections above the minimums (default 1). */
        private int weight = 1;

        public int getMinimum() {
            return minimum;
        }

        public void setMinimum(int minimum) {
            this.minimum = minimum;
        }

        public Integer getCap() {
            return cap;
        }

        public void setCap(Integer cap) {
            this.cap = cap;
        }

        public int getWeight() {
            return weight;
        }

        public void setWeight(int weight) {
            this.weight = weight;
        }
    }

    public String getPoolName() {
        return poolName;
    }

    public void setPoolName(String poolName) {
        this.poolName = poolName;
    }

    public Integer getMaximumPoolSize() {
        return maximumPoolSize;
    }

    public void setMaximumPoolSize(Integer maximumPoolSize) {
        this.maximumPoolSize = maximumPoolSize;
    }

    public Integer getMinimumIdle() {
        return minimumIdle;
    }

    public void setMinimumIdle(Integer minimumIdle) {
        this.minimumIdle = minimumIdle;
    }

    public Duration getConnectionTimeout() {
        return connectionTimeout;
    }

    public void setConnectionTimeout(Duration connectionTimeout) {
        this.connectionTimeout = connectionTimeout;
    }

    public Duration getIdleTimeout() {
        return idleTimeout;
    }

    public void setIdleTimeout(Duration idleTimeout) {
        this.idleTimeout = idleTimeout;
    }

    public Duration getMaxLifetime() {
        return maxLifetime;
    }

    public void setMaxLifetime(Duration maxLifetime) {
        this.maxLifetime = maxLifetime;
    }

    public Duration getKeepaliveTime() {
        return keepaliveTime;
    }

    public void setKeepaliveTime(Duration keepaliveTime) {
        this.keepaliveTime = keepaliveTime;
    }

    public Duration getValidationTimeout() {
        return validationTimeout;
    }

    public void setValidationTimeout(Duration validationTimeout) {
        this.validationTimeout = validationTimeout;
    }

    public Duration getLeakDetectionThreshold() {
        return leakDetectionThreshold;
    }

    public void setLeakDetectionThreshold(Duration leakDetectionThreshold) {
        this.leakDetectionThreshold = leakDetectionThreshold;
    }

    public Duration getLeakReclaimTimeout() {
        return leakReclaimTimeout;
    }

    public void setLeakReclaimTimeout(Duration leakReclaimTimeout) {
        this.leakReclaimTimeout = leakReclaimTimeout;
    }

    public Duration getMaxHoldTime() {
        return maxHoldTime;
    }

    public void setMaxHoldTime(Duration maxHoldTime) {
        this.maxHoldTime = maxHoldTime;
    }

    public Duration getIdleInTransactionTimeout() {
        return idleInTransactionTimeout;
    }

    public void setIdleInTransactionTimeout(Duration idleInTransactionTimeout) {
        this.idleInTransactionTimeout = idleInTransactionTimeout;
    }

    public dev.ferry.MultipleAcquisition getMultipleAcquisition() {
        return multipleAcquisition;
    }

    public void setMultipleAcquisition(dev.ferry.MultipleAcquisition multipleAcquisition) {
        this.multipleAcquisition = multipleAcquisition;
    }

    public Duration getInitializationFailTimeout() {
        return initializationFailTimeout;
    }

    public void setInitializationFailTimeout(Duration initializationFailTimeout) {
        this.initializationFailTimeout = initializationFailTimeout;
    }

    public Duration getQueryTimeout() {
        return queryTimeout;
    }

    public void setQueryTimeout(Duration queryTimeout) {
        this.queryTimeout = queryTimeout;
    }

    public Duration getShutdownTimeout() {
        return shutdownTimeout;
    }

    public void setShutdownTimeout(Duration shutdownTimeout) {
        this.shutdownTimeout = shutdownTimeout;
    }

    public Integer getPerUserPoolSize() {
        return perUserPoolSize;
    }

    public void setPerUserPoolSize(Integer perUserPoolSize) {
        this.perUserPoolSize = perUserPoolSize;
    }

    public Integer getMaxUserPools() {
        return maxUserPools;
    }

    public void setMaxUserPools(Integer maxUserPools) {
        this.maxUserPools = maxUserPools;
    }

    public Integer getMaxWaiting() {
        return maxWaiting;
    }

    public void setMaxWaiting(Integer maxWaiting) {
        this.maxWaiting = maxWaiting;
    }

    public Integer getReserve() {
        return reserve;
    }

    public void setReserve(Integer reserve) {
        this.reserve = reserve;
    }

    public Duration getReserveTimeout() {
        return reserveTimeout;
    }

    public void setReserveTimeout(Duration reserveTimeout) {
        this.reserveTimeout = reserveTimeout;
    }

    public Duration getQueueWaitTarget() {
        return queueWaitTarget;
    }

    public void setQueueWaitTarget(Duration queueWaitTarget) {
        this.queueWaitTarget = queueWaitTarget;
    }

    public Duration getOverloadInterval() {
        return overloadInterval;
    }

    public void setOverloadInterval(Duration overloadInterval) {
        this.overloadInterval = overloadInterval;
    }

    public Boolean getShedOnOverload() {
        return shedOnOverload;
    }

    public void setShedOnOverload(Boolean shedOnOverload) {
        this.shedOnOverload = shedOnOverload;
    }

    public String getSizing() {
        return sizing;
    }

    public void setSizing(String sizing) {
        this.sizing = sizing;
    }

    public Duration getSizingPeriod() {
        return sizingPeriod;
    }

    public void setSizingPeriod(Duration sizingPeriod) {
        this.sizingPeriod = sizingPeriod;
    }

    public Boolean getServerAwareCap() {
        return serverAwareCap;
    }

    public void setServerAwareCap(Boolean serverAwareCap) {
        this.serverAwareCap = serverAwareCap;
    }

    public Boolean getRegisterMbeans() {
        return registerMbeans;
    }

    public void setRegisterMbeans(Boolean registerMbeans) {
        this.registerMbeans = registerMbeans;
    }

    public Boolean getAutoCommit() {
        return autoCommit;
    }

    public void setAutoCommit(Boolean autoCommit) {
        this.autoCommit = autoCommit;
    }

    public Boolean getReadOnly() {
        return readOnly;
    }

    public void setReadOnly(Boolean readOnly) {
        this.readOnly = readOnly;
    }

    public String getTransactionIsolation() {
        return transactionIsolation;
    }

    public void setTransactionIsolation(String transactionIsolation) {
        this.transactionIsolation = transactionIsolation;
    }

    public String getCatalog() {
        return catalog;
    }

    public void setCatalog(String catalog) {
        this.catalog = catalog;
    }

    public String getSchema() {
        return schema;
    }

    public void setSchema(String schema) {
        this.schema = schema;
    }

    public String getConnectionInitSql() {
        return connectionInitSql;
    }

    public void setConnectionInitSql(String connectionInitSql) {
        this.connectionInitSql = connectionInitSql;
    }

    public String getConnectionTestQuery() {
        return connectionTestQuery;
    }

    public void setConnectionTestQuery(String connectionTestQuery) {
        this.connectionTestQuery = connectionTestQuery;
    }

    public String getExceptionOverrideClassName() {
        return exceptionOverrideClassName;
    }

    public void setExceptionOverrideClassName(String exceptionOverrideClassName) {
        this.exceptionOverrideClassName = exceptionOverrideClassName;
    }

    public Boolean getAllowPoolSuspension() {
        return allowPoolSuspension;
    }

    public void setAllowPoolSuspension(Boolean allowPoolSuspension) {
        this.allowPoolSuspension = allowPoolSuspension;
    }

    public Boolean getSqlStatistics() {
        return sqlStatistics;
    }

    public void setSqlStatistics(Boolean sqlStatistics) {
        this.sqlStatistics = sqlStatistics;
    }

    public Duration getSlowStatementThreshold() {
        return slowStatementThreshold;
    }

    public void setSlowStatementThreshold(Duration slowStatementThreshold) {
        this.slowStatementThreshold = slowStatementThreshold;
    }

    public Map<String, String> getDataSourceProperties() {
        return dataSourceProperties;
    }

    public void setDataSourceProperties(Map<String, String> dataSourceProperties) {
        this.dataSourceProperties = dataSourceProperties;
    }

    public Map<String, Lane> getLanes() {
        return lanes;
    }

    public void setLanes(Map<String, Lane> lanes) {
        this.lanes = lanes;
    }

    public boolean isPercentileHistograms() {
        return percentileHistograms;
    }

    public void setPercentileHistograms(boolean percentileHistograms) {
        this.percentileHistograms = percentileHistograms;
    }

    public Duration getHousekeepingPeriod() {
        return housekeepingPeriod;
    }

    public void setHousekeepingPeriod(Duration housekeepingPeriod) {
        this.housekeepingPeriod = housekeepingPeriod;
    }
}
