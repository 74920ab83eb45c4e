package dev.ferry.pool;

import dev.ferry.FerryConfig;
import dev.ferry.Ticker;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens, checks and closes physical connections, each with a time limit, and tolerates drivers that implement
 * only part of JDBC.
 *
 * <p><b>Time limits.</b> A connect carries a login timeout of connectionTimeout (the driver's
 * {@code loginTimeout} property when the driver lists it, or {@code DataSource.setLoginTimeout}). With failover on,
 * a connect may try every host in turn ({@link dev.ferry.ha.PrimaryLocator}), each with that login timeout and a
 * role check bounded by validationTimeout. Setting the
 * new connection up (session settings, connectionInitSql) runs under a network timeout of validationTimeout, and
 * connectionInitSql under a query timeout too. A validation runs under a network timeout as well as
 * {@code isValid}'s (which counts whole seconds), so it ends within the time it is given. A close first sets a
 * network timeout of validationTimeout. Network timeouts are changed on the calling thread (a direct executor),
 * so a change and its restore cannot run out of order. Drivers that do not support network timeouts get only
 * what their own login timeout, {@code isValid} and {@code close} do.
 *
 * <p><b>Weak drivers.</b> Reading a connection's schema, network timeout, catalog or isolation may throw
 * {@code SQLFeatureNotSupportedException}, another SQLException or {@code AbstractMethodError} (a JDBC 3
 * driver). Each is read once per connection and, if it fails, recorded as unknown rather than refusing to
 * connect. A borrower who changes a property whose initial value is unknown gets the connection retired on
 * return (the reset fails), since the pool cannot know what to reset it to.
 *
 * <p><b>No transaction left open.</b> Everything the factory reads from a new connection is read while it is
 * still in autocommit mode; autocommit is switched off (when configured) last, after connectionInitSql, so no
 * query of ours opens a transaction that nobody ends (on PostgreSQL, {@code getSchema()} runs a query).
 */
final class ConnectionFactory {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionFactory.class);
    /**
     * Whether a connection class implements JDBC 4.3's {@code beginRequest}/{@code endRequest} itself (SQL Server's
     * and Oracle's drivers do; pgjdbc, MariaDB Connector/J and H2 keep {@code Connection}'s no-op defaults, and
     * then the pool does not call them). Looked up once per class.
     */
    private static final ClassValue<Boolean> REQUEST_BOUNDARIES = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            try {
                return type.getMethod("beginRequest").getDeclaringClass() != Connection.class
                        || type.getMethod("endRequest").getDeclaringClass() != Connection.class;
            } catch (NoSuchMethodException | LinkageError e) {
                return false; // a driver compiled against JDBC 4.2 or older
            }
        }
    };
    /** The most a connection is retired ahead of its credentials' expiry (less when they have little left). */
    private static final long CREDENTIALS_MARGIN_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final FerryConfig config;
    private final String poolName;
    private final Ticker ticker;
    private final Driver driver;
    private final DataSource dataSource;
    private final Properties baseProperties;
    private final long maxLifetimeNanos;
    private final Executor networkTimeoutExecutor;
    private volatile String username;
    private volatile String password;
    /** Asked for each connection's credentials instead of username and password; null when not configured. */
    private final dev.ferry.CredentialsProvider credentials;
    private final java.time.Clock clock;
    /** The configured interceptors (their onCreate runs here), or null. */
    private final Interceptors interceptors;
    /** Where writes go when failover is on (the primary, found again among the hosts); null when it is off. */
    private final dev.ferry.ha.PrimaryLocator primaries;

    ConnectionFactory(FerryConfig config, Executor networkTimeoutExecutor,
            dev.ferry.ha.PrimaryLocator.Listener onFailover) {
        this.config = config;
        this.poolName = config.poolName();
        this.ticker = config.ticker();
        this.driver = config.driver();
        this.dataSource = config.dataSource();
        this.username = config.username();
        this.password = config.password();
        this.credentials = config.credentialsProvider();
        this.clock = config.clock();
        this.interceptors = Interceptors.of(config.interceptors(), config.poolName());
        this.maxLifetimeNanos = config.maxLifetime().toNanos();
        this.networkTimeoutExecutor = networkTimeoutExecutor;
        if (config.failover() && driver != null) {
            java.util.List<String> hosts = new java.util.ArrayList<>();
            hosts.add(config.jdbcUrl());
            hosts.addAll(config.replicas());
            this.primaries = new dev.ferry.ha.PrimaryLocator(poolName, hosts, ticker, config.validationTimeout(),
                    config.connectionTimeout(), onFailover);
        } else {
            this.primaries = null;
        }
        this.baseProperties = new Properties();
        for (Map.Entry<Object, Object> e : config.dataSourceProperties().entrySet()) {
            // A Driver reads properties with getProperty, which sees strings only.
            baseProperties.setProperty(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
        }
        long loginSeconds = loginTimeoutSeconds();
        if (driver != null && loginSeconds > 0 && !baseProperties.containsKey("loginTimeout")
                && listsProperty(driver, config.jdbcUrl(), "loginTimeout")) {
            baseProperties.setProperty("loginTimeout", Long.toString(loginSeconds));
        }
        if (dataSource != null && loginSeconds > 0) {
            try {
                dataSource.setLoginTimeout((int) loginSeconds);
            } catch (SQLException | RuntimeException | LinkageError e) {
                LOG.debug("{} - {} does not take a login timeout: {}", poolName, dataSource.getClass().getName(),
                        e.toString());
            }
        }
    }

    /** connectionTimeout in whole seconds, at least 1; 0 when connectionTimeout is unlimited. */
    private long loginTimeoutSeconds() {
        long millis = config.connectionTimeout().toMillis();
        return millis >= Integer.MAX_VALUE ? 0 : Math.max(1, (millis + 999) / 1000);
    }

    private static boolean listsProperty(Driver driver, String url, String name) {
        try {
            DriverPropertyInfo[] info = driver.getPropertyInfo(url, new Properties());
            if (info != null) {
                for (DriverPropertyInfo p : info) {
                    if (name.equals(p.name)) {
                        return true;
                    }
                }
            }
        } catch (SQLException | RuntimeException | LinkageError e) {
            // a driver that cannot describe itself gets no login timeout from us
        }
        return false;
    }

    /** New credentials for connections opened from now on; open ones keep theirs. */
    void setCredentials(String username, String password) {
        if (credentials != null) {
            throw new IllegalStateException(poolName + " - credentials come from the credentialsProvider ("
                    + credentials.getClass().getName() + "); username and password cannot be set beside it");
        }
        this.username = username;
        this.password = password;
    }

    /**
     * Whether connections opened now log in as {@code user} with {@code password}: the username and password set
     * (now, after any change at run time), with no credentials provider and a password to compare (one given only
     * in the data source properties, or none, is never taken as matched).
     */
    boolean logsInAs(String user, String password) {
        String ownPassword = this.password;
        String ownUser = this.username;
        return credentials == null && ownUser != null && ownPassword != null && password != null
                && ownUser.equals(user) && java.security.MessageDigest.isEqual(
                        ownPassword.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        password.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Opens and prepares one physical connection. */
    PoolEntry open() throws SQLException {
        Login login = login();
        Connection c = primaries != null ? primaries.connect(url -> connect(url, login))
                : connect(config.jdbcUrl(), login);
        try {
            return prepare(c, login);
        } catch (Throwable e) { // whatever the setup or an interceptor throws, the connection is not left open
            closeQuietly(c);
            throw e;
        }
    }

    /** What one connection attempt logs in with, and until when (ticker time) it may be used. */
    private record Login(String user, String password, long usableUntil, boolean expires) {
        @Override
        public String toString() {
            return "Login{user=" + user + ", password=" + (password == null ? "null" : "****") + "}";
        }
    }

    /** Credentials with less than this left are treated as expired: a connection opened with them would retire at once. */
    private static final java.time.Duration CREDENTIALS_MIN_LEFT = java.time.Duration.ofSeconds(1);
    /** Expiries further away than this are treated as none (and keep the nanosecond arithmetic in range). */
    private static final java.time.Duration CREDENTIALS_FAR = java.time.Duration.ofDays(365 * 100);

    /**
     * The credentials for one attempt: the configured ones, or the provider's (asked once more if it gives
     * expired ones; refused without connecting if those are expired too). See {@link dev.ferry.CredentialsProvider}.
     */
    private Login login() throws SQLException {
        if (credentials == null) {
            return new Login(username, password, 0, false);
        }
        dev.ferry.CredentialsProvider.Credentials given = ask();
        java.time.Instant now = clock.instant();
        if (expired(given, now)) {
            given = ask();
            now = clock.instant();
            if (expired(given, now)) {
                throw new SQLException(poolName + " - the credentialsProvider gave credentials that expired at "
                        + given.expiresAt() + " (now " + now + ", less than " + CREDENTIALS_MIN_LEFT.toMillis()
                        + "ms left counts as expired), twice; no connection was opened with them", "28000");
            }
        }
        String user = given.username() != null ? given.username() : username;
        if (dataSource != null && user == null && given.password() != null) {
            throw new SQLException(poolName + " - the credentialsProvider gave a password and no username, and none "
                    + "is configured; a DataSource takes a password only with a username", "28000");
        }
        java.time.Duration left = given.expiresAt() == null ? null : java.time.Duration.between(now, given.expiresAt());
        if (left == null || left.compareTo(CREDENTIALS_FAR) > 0) {
            return new Login(user, given.password(), 0, false);
        }
        return new Login(user, given.password(), ticker.read() + left.toNanos(), true);
    }

    private static boolean expired(dev.ferry.CredentialsProvider.Credentials given, java.time.Instant now) {
        return given.expiresAt() != null && given.expiresAt().isBefore(now.plus(CREDENTIALS_MIN_LEFT));
    }

    private dev.ferry.CredentialsProvider.Credentials ask() throws SQLException {
        dev.ferry.CredentialsProvider.Credentials given;
        try {
            given = credentials.credentials();
        } catch (SQLException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new SQLException(poolName + " - the credentialsProvider failed: " + e.getClass().getName(),
                    "08001", e);
        }
        if (given == null) {
            throw new SQLException(poolName + " - the credentialsProvider returned no credentials", "08001");
        }
        return given;
    }

    /** The host writes go to now (with failover on, the primary last found), its password masked. */
    String host() {
        return primaries != null ? primaries.primary() : config.maskedJdbcUrl();
    }

    private Connection connect(String jdbcUrl, Login login) throws SQLException {
        Connection c;
        String user = login.user();
        String pass = login.password();
        if (driver != null) {
            Properties props = new Properties();
            props.putAll(baseProperties);
            if (user != null) {
                props.setProperty("user", user);
            }
            if (pass != null) {
                props.setProperty("password", pass);
            }
            c = driver.connect(jdbcUrl, props);
            if (c == null) {
                throw new SQLException(poolName + " - driver " + driver.getClass().getName()
                        + " returned no connection for " + FerryConfig.maskUrl(jdbcUrl), "08001");
            }
        } else {
            c = user != null ? dataSource.getConnection(user, pass) : dataSource.getConnection();
            if (c == null) {
                throw new SQLException(poolName + " - " + dataSource.getClass().getName()
                        + " returned no connection", "08001");
            }
        }
        return c;
    }

    private PoolEntry prepare(Connection c, Login login) throws SQLException {
        boolean autoCommit = config.autoCommit();
        // Bound the setup's I/O as a validation's: a half-open socket must not hang a connector for good.
        int initialNetworkTimeout = read(c, Connection::getNetworkTimeout, -1, "getNetworkTimeout"); // -1: unsupported
        boolean bounded = initialNetworkTimeout >= 0 && trySetNetworkTimeout(c,
                (int) Math.min(config.validationTimeout().toMillis(), Integer.MAX_VALUE));
        // Set what was configured, then read the state back, all in autocommit mode (see the class notes).
        if (!c.getAutoCommit()) {
            c.setAutoCommit(true);
        }
        if (config.readOnly()) {
            c.setReadOnly(true);
        }
        if (config.transactionIsolation() != null) {
            c.setTransactionIsolation(config.transactionIsolation());
        }
        if (config.catalog() != null) {
            c.setCatalog(config.catalog());
        }
        if (config.schema() != null) {
            c.setSchema(config.schema());
        }
        if (interceptors != null) { // before the state is read: JDBC properties it sets are what loans reset to
            interceptors.create(c);
            if (!c.getAutoCommit()) {
                c.setAutoCommit(true); // an interceptor that switched it off: the reads below stay outside a transaction
            }
        }
        long now = ticker.read();
        long jitter = maxLifetimeNanos > 0 ? ThreadLocalRandom.current().nextLong(maxLifetimeNanos / 40 + 1) : 0;
        long retireAt = now + maxLifetimeNanos - jitter;
        boolean forCredentials = false;
        if (login.expires()) { // retire before the credentials expire: a tenth of what is left early, at most 30 s,
            long left = login.usableUntil() - now; // and jittered as maxLifetime is, so one token's connections
            long margin = Math.min(Math.max(0, left / 10), CREDENTIALS_MARGIN_NANOS); // do not all retire at once
            long byCredentials = login.usableUntil() - margin
                    - ThreadLocalRandom.current().nextLong(Math.max(0, left - margin) / 40 + 1);
            forCredentials = maxLifetimeNanos <= 0 || byCredentials - retireAt < 0;
            retireAt = forCredentials ? byCredentials : retireAt;
        }
        PoolEntry entry = new PoolEntry(c, now, retireAt, maxLifetimeNanos > 0 || login.expires());
        entry.requestBoundaries = REQUEST_BOUNDARIES.get(c.getClass());
        entry.retiresForCredentials = forCredentials;
        entry.readOnly = config.readOnly();
        entry.isolation = entry.initialIsolation = read(c, Connection::getTransactionIsolation, -1,
                "getTransactionIsolation");
        entry.catalog = entry.initialCatalog = read(c, Connection::getCatalog, null, "getCatalog");
        entry.schema = entry.initialSchema = read(c, Connection::getSchema, null, "getSchema");
        entry.networkTimeout = entry.initialNetworkTimeout = initialNetworkTimeout;
        entry.networkTimeoutSupported = initialNetworkTimeout >= 0;
        if (config.connectionInitSql() != null) {
            try (Statement s = c.createStatement()) {
                try {
                    s.setQueryTimeout((int) Math.max(1, config.validationTimeout().toSeconds()));
                } catch (SQLException unsupported) {
                    // an old driver: the network timeout above still bounds it
                }
                s.execute(config.connectionInitSql());
            }
        }
        if (!autoCommit) {
            c.setAutoCommit(false);
        }
        entry.autoCommit = autoCommit;
        if (bounded && !trySetNetworkTimeout(c, initialNetworkTimeout)) {
            throw new SQLException(poolName + " - could not restore the network timeout of a new connection",
                    "08001");
        }
        return entry;
    }

    private boolean trySetNetworkTimeout(Connection c, int millis) {
        try {
            c.setNetworkTimeout(networkTimeoutExecutor, millis);
            return true;
        } catch (SQLException | RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** A JDBC getter that a weak driver may not support. */
    @FunctionalInterface
    private interface Getter<T> {
        T get(Connection c) throws SQLException;
    }

    /** Reads one property, or answers {@code unknown} if the driver cannot say (see the class notes). */
    private <T> T read(Connection c, Getter<T> getter, T unknown, String method) {
        try {
            return getter.get(c);
        } catch (SQLException | RuntimeException | LinkageError e) {
            unsupported(method, e);
            return unknown;
        }
    }

    private void unsupported(String method, Throwable e) {
        LOG.debug("{} - driver does not support {} ({}); that property will not be reset on return", poolName,
                method, e.toString());
    }

    /**
     * Whether the connection answers within {@code timeoutNanos}: connectionTestQuery if configured, else
     * {@code isValid}. With autocommit off, the test query's transaction is rolled back.
     */
    boolean isAlive(PoolEntry entry, long timeoutNanos) {
        long millis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
        int seconds = (int) Math.max(1, (millis + 999) / 1000);
        boolean bounded = entry.networkTimeoutSupported
                && trySetNetworkTimeout(entry.connection, (int) Math.min(millis, Integer.MAX_VALUE));
        boolean alive = check(entry, seconds);
        // A connection whose network timeout we changed and cannot restore is not lent: it would surprise its
        // next borrower.
        return bounded ? trySetNetworkTimeout(entry.connection, entry.networkTimeout) && alive : alive;
    }

    private boolean check(PoolEntry entry, int seconds) {
        Connection c = entry.connection;
        try {
            if (config.connectionTestQuery() == null) {
                return c.isValid(seconds);
            }
            try (Statement s = c.createStatement()) {
                s.setQueryTimeout(seconds);
                s.execute(config.connectionTestQuery());
            }
            if (!entry.autoCommit) {
                c.rollback();
            }
            return true;
        } catch (SQLException | RuntimeException | LinkageError e) {
            LOG.debug("{} - validation of {} failed: {}", poolName, entry, e.toString());
            return false;
        }
    }

    /** Closes a physical connection, first bounding the close's I/O with a network timeout where supported. */
    void close(PoolEntry entry) {
        if (entry.networkTimeoutSupported) {
            trySetNetworkTimeout(entry.connection, (int) Math.min(config.validationTimeout().toMillis(), Integer.MAX_VALUE));
        }
        ProxyConnection reclaimed = entry.reclaimedWithoutAbort;
        if (reclaimed != null) { // taken back and not aborted: end what runs, then roll back (some drivers commit on close)
            long until = System.nanoTime() + config.validationTimeout().toNanos();
            while (reclaimed.runningNow() > 0 && System.nanoTime() - until < 0) {
                java.sql.Statement last = reclaimed.lastStarted;
                try {
                    if (last != null) {
                        last.cancel();
                    }
                } catch (SQLException | RuntimeException | LinkageError e) {
                    LOG.debug("{} - cancel on a reclaimed connection failed: {}", poolName, e.toString());
                }
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            }
            if (reclaimed.runningNow() == 0) { // else a rollback would wait behind it: the close drops the session
                try {
                    entry.connection.rollback();
                } catch (SQLException | RuntimeException | LinkageError e) {
                    LOG.debug("{} - rollback before closing a reclaimed connection failed: {}", poolName,
                            e.toString());
                }
            }
            reclaimed.lastStarted = null;
        }
        closeQuietly(entry.connection);
    }

    void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException | RuntimeException | LinkageError e) {
            LOG.debug("{} - error closing a connection: {}", poolName, e.toString());
        }
    }
}
