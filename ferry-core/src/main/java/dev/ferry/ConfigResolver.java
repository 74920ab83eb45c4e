package dev.ferry;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * Turns a builder's settings into effective values. Two rules, applied in this order:
 * <ol>
 *   <li><b>Bounds and contradictions fail.</b> A value outside sane bounds, or two values the user set that
 *       contradict each other, throw {@link IllegalArgumentException} naming the setting, the value and what is
 *       allowed. A value the user set is never replaced by one that behaves differently.
 *   <li><b>Defaults adapt.</b> A setting the user did not set, whose default conflicts with one they did, takes
 *       the value HikariCP 7 would give it. An idleTimeout or keepaliveTime the user set that could never fire
 *       because the <em>default</em> maxLifetime retires connections first is shown as disabled (0), as HikariCP
 *       shows it: the pool behaves the same either way. Each adaptation is recorded as one line naming both
 *       settings; the pool logs them once at INFO when it starts, and {@code toString} lists them.
 * </ol>
 * HikariCP instead replaces some values the user set (a maxLifetime under 30 s becomes 30 min, a leak threshold
 * under 2 s is switched off, minimumIdle above maximumPoolSize is lowered). Ferry keeps the user's value there,
 * or fails when two of them contradict; README's migration table lists each case.
 */
final class ConfigResolver {

    /** The system property that numbers generated pool names, JVM-wide (HikariCP keeps its own the same way). */
    static final String POOL_NUMBER_PROPERTY = "dev.ferry.pool_number";

    /** HikariCP's "no limit" for connectionTimeout = 0 (Integer.MAX_VALUE milliseconds). */
    static final Duration NO_LIMIT = Duration.ofMillis(Integer.MAX_VALUE);

    /** An idle timeout within this of maxLifetime could never fire first (HikariCP's margin). */
    private static final Duration IDLE_MARGIN = Duration.ofSeconds(1);

    static final class Resolved {
        Driver driver;
        DataSource dataSource;
        Integer isolation;
        String poolName;
        int maximumPoolSize;
        int minimumIdle;
        Duration connectionTimeout;
        Duration validationTimeout;
        Duration idleTimeout;
        Duration keepaliveTime;
        ExceptionOverride exceptionOverride;
        CredentialsProvider credentialsProvider;
        dev.ferry.observe.MetricsTrackerFactory metricsTrackerFactory;
        final List<String> adaptations = new ArrayList<>();
    }

    private ConfigResolver() {
    }

    static Resolved resolve(FerryConfig.Builder b) {
        Resolved r = new Resolved();
        blanksToNull(b);
        resolveSource(b, r);

        // Sizes.
        int max = b.maximumPoolSize;
        require("maximumPoolSize", max, max >= 1, "at least 1");
        require("minimumIdle", b.minimumIdle, b.minimumIdle >= 0 || b.minimumIdle == -1,
                "0 to maximumPoolSize (" + max + "), or -1 for maximumPoolSize");
        if (b.minimumIdle > max) {
            if (set(b, "maximumPoolSize")) {
                throw new IllegalArgumentException("minimumIdle: got " + b.minimumIdle
                        + "; allowed: at most maximumPoolSize (" + max + ")");
            }
            adapt(r, "maximumPoolSize", max, b.minimumIdle, "default raised to the minimumIdle set");
            max = b.minimumIdle;
        }
        if (b.perUserPoolSize > max && !set(b, "maximumPoolSize")) {
            adapt(r, "maximumPoolSize", max, b.perUserPoolSize, "default raised to the perUserPoolSize set");
            max = b.perUserPoolSize;
        }
        r.maximumPoolSize = max;
        r.minimumIdle = b.minimumIdle == -1 ? max : b.minimumIdle;
        if (b.sizing != null && !set(b, "minimumIdle") && r.minimumIdle > 0) {
            adapt(r, "minimumIdle", r.minimumIdle, 0, "default; the sizing policy set sizes the pool");
            r.minimumIdle = 0;
        }

        // Timeouts: bounds first.
        notNegative("connectionTimeout", b.connectionTimeout, "0 (no limit) or a positive duration");
        positive("validationTimeout", b.validationTimeout);
        positive("housekeepingPeriod", b.housekeepingPeriod);
        notNegative("idleTimeout", b.idleTimeout, null);
        notNegative("maxLifetime", b.maxLifetime, null);
        notNegative("keepaliveTime", b.keepaliveTime, null);
        notNegative("leakDetectionThreshold", b.leakDetectionThreshold, null);
        for (String setting : new String[] {"leakReclaimTimeout", "maxHoldTime", "idleInTransactionTimeout"}) {
            Duration d = setting.equals("maxHoldTime") ? b.maxHoldTime
                    : setting.equals("idleInTransactionTimeout") ? b.idleInTransactionTimeout : b.leakReclaimTimeout;
            require(setting, ms(d), d != null && (d.isZero() || d.compareTo(Duration.ofSeconds(1)) >= 0),
                    "0 (off) or at least 1000ms");
        }
        notNegative("slowStatementThreshold", b.slowStatementThreshold, null);
        notNegative("maxReplicationLag", b.maxReplicationLag, null);
        require("banTime", ms(b.banTime), b.banTime != null && !b.banTime.isNegative() && !b.banTime.isZero(),
                "a positive duration");
        for (String replica : b.replicas) {
            require("replicas", FerryConfig.maskUrl(replica), replica.startsWith("jdbc:postgresql:"),
                    "PostgreSQL JDBC URLs (jdbc:postgresql://...)");
        }
        if (Boolean.TRUE.equals(b.failover) && b.replicas.isEmpty()) {
            throw new IllegalArgumentException("failover: got true with no replicas; allowed: true only with at "
                    + "least one replica (the hosts a promoted primary may be found among)");
        }
        if (Boolean.TRUE.equals(b.failover) && b.jdbcUrl != null && !b.jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("failover: got true with jdbcUrl " + FerryConfig.maskUrl(b.jdbcUrl)
                    + "; allowed: true only with a PostgreSQL jdbcUrl (roles are read with pg_is_in_recovery())");
        }
        r.credentialsProvider = resolveCredentials(b);
        if (r.credentialsProvider != null) {
            String setting = b.credentialsProviderClassName != null ? "credentialsProviderClassName"
                    : "credentialsProvider";
            if (b.password != null) {
                throw new IllegalArgumentException(setting + ": set together with password; allowed: one "
                        + "of them (the provider's credentials are asked for every new connection)");
            }
            if (b.jdbcUrl != null && !FerryConfig.maskUrl(b.jdbcUrl).equals(b.jdbcUrl)) {
                throw new IllegalArgumentException(setting + ": set with a password in jdbcUrl "
                        + FerryConfig.maskUrl(b.jdbcUrl) + "; allowed: a jdbcUrl without one (the driver would "
                        + "prefer the URL's to the provider's)");
            }
            if (b.dataSourceProperties.containsKey("password")) {
                throw new IllegalArgumentException(setting + ": set with a password in the data source "
                        + "properties; allowed: one of them");
            }
        }
        if (!b.replicas.isEmpty() && b.jdbcUrl == null) {
            throw new IllegalArgumentException("replicas: got " + b.replicas.size() + " with no jdbcUrl; allowed: "
                    + "replicas only beside a primary given by jdbcUrl");
        }
        notNegative("queryTimeout", b.queryTimeout, null);
        notNegative("shutdownTimeout", b.shutdownTimeout, null);
        Objects.requireNonNull(b.initializationFailTimeout, "initializationFailTimeout must not be null");
        require("queryTimeout", ms(b.queryTimeout), b.queryTimeout.toNanos() % 1_000_000_000L == 0,
                "a whole number of seconds (JDBC's Statement.setQueryTimeout counts seconds), or 0 to disable");
        require("maxWaiting", b.maxWaiting, b.maxWaiting >= 0, "0 (never wait) or more");
        userPools(b, r.maximumPoolSize);
        require("reserve", b.reserve, b.reserve >= 0 && b.reserve <= 10_000, "0 (no reserve) to 10000");
        notNegative("reserveTimeout", b.reserveTimeout, null);
        notNegative("queueWaitTarget", b.queueWaitTarget, null);
        require("overloadInterval", ms(b.overloadInterval), b.overloadInterval != null && !b.overloadInterval.isNegative()
                && !b.overloadInterval.isZero(), "a positive duration");
        if (set(b, "overloadInterval") && b.queueWaitTarget.isZero()) {
            throw new IllegalArgumentException("overloadInterval: got " + ms(b.overloadInterval) + " with "
                    + "queueWaitTarget=0 (off); allowed: an overloadInterval only with a queueWaitTarget");
        }
        if (set(b, "reserveTimeout") && set(b, "connectionTimeout") && !b.connectionTimeout.isZero()
                && b.reserveTimeout.compareTo(b.connectionTimeout) >= 0) {
            throw new IllegalArgumentException("reserveTimeout: got " + ms(b.reserveTimeout) + "; allowed: less than "
                    + "connectionTimeout (" + ms(b.connectionTimeout) + "), or a CRITICAL caller times out before it "
                    + "may use the reserve");
        }
        if (b.shedOnOverload && b.queueWaitTarget.isZero()) {
            throw new IllegalArgumentException("shedOnOverload: got true with queueWaitTarget=0 (off); allowed: "
                    + "shedding only with a queueWaitTarget (the wait above which the pool counts as overloaded)");
        }
        require("sizingPeriod", ms(b.sizingPeriod), b.sizingPeriod != null && b.sizingPeriod.toMillis() >= 10
                && b.sizingPeriod.compareTo(Duration.ofHours(1)) <= 0, "10ms to 1 hour");
        if (set(b, "sizingPeriod") && b.sizing == null && !b.serverAwareCap) {
            throw new IllegalArgumentException("sizingPeriod: got " + ms(b.sizingPeriod) + " with no sizing policy "
                    + "and serverAwareCap=false; allowed: a sizingPeriod only with a sizing policy or serverAwareCap");
        }
        if (b.clock == null) {
            throw new IllegalArgumentException("clock: got null; allowed: a java.time.Clock");
        }
        if (b.sizing != null) {
            b.sizing.validate(r.maximumPoolSize, r.minimumIdle);
        }
        dev.ferry.capacity.LaneBudget.validate(b.lanes, r.maximumPoolSize);
        if (set(b, "reserveTimeout") && b.reserve == 0) {
            throw new IllegalArgumentException("reserveTimeout: got " + ms(b.reserveTimeout) + " with reserve=0; "
                    + "allowed: a reserveTimeout only with a reserve (set reserve to 1 or more)");
        }

        r.connectionTimeout = b.connectionTimeout.isZero() ? NO_LIMIT : b.connectionTimeout;
        r.validationTimeout = b.validationTimeout;
        r.idleTimeout = b.idleTimeout;
        r.keepaliveTime = b.keepaliveTime;

        // Timeouts: contradictions between values the user set, then defaults that adapt.
        Duration lifetime = b.maxLifetime;
        boolean lifetimeOn = !lifetime.isZero();
        boolean elastic = r.minimumIdle < r.maximumPoolSize; // idleTimeout only matters above minimumIdle
        if (lifetimeOn && elastic && !r.idleTimeout.isZero()
                && r.idleTimeout.plus(IDLE_MARGIN).compareTo(lifetime) > 0) {
            if (set(b, "idleTimeout") && set(b, "maxLifetime")) {
                throw new IllegalArgumentException("idleTimeout: got " + ms(r.idleTimeout) + "; allowed: at least "
                        + IDLE_MARGIN.toMillis() + "ms less than maxLifetime (" + ms(lifetime) + "), since a "
                        + "connection retires for age before it could retire for idleness; or 0 to disable");
            }
            adapt(r, "idleTimeout", ms(r.idleTimeout), "0ms (disabled)", "not at least 1000ms below "
                    + (set(b, "maxLifetime") ? "the maxLifetime set (" : "the default maxLifetime (") + ms(lifetime)
                    + "), so it could never fire");
            r.idleTimeout = Duration.ZERO;
        }
        if (lifetimeOn && !r.keepaliveTime.isZero() && r.keepaliveTime.compareTo(lifetime) >= 0) {
            if (set(b, "keepaliveTime") && set(b, "maxLifetime")) {
                throw new IllegalArgumentException("keepaliveTime: got " + ms(r.keepaliveTime)
                        + "; allowed: less than maxLifetime (" + ms(lifetime) + "), or 0 to disable");
            }
            adapt(r, "keepaliveTime", ms(r.keepaliveTime), "0ms (disabled)", "not below "
                    + (set(b, "maxLifetime") ? "the maxLifetime set (" : "the default maxLifetime (") + ms(lifetime)
                    + "), so it could never fire");
            r.keepaliveTime = Duration.ZERO;
        }
        // validationTimeout may exceed connectionTimeout, as in HikariCP: a validation during a borrow is given
        // at most the borrower's remaining time, so the larger value only applies to keepalive probes.

        r.isolation = parseIsolation(b.transactionIsolation);
        if (b.ticker == null) {
            throw new IllegalArgumentException("ticker must not be null");
        }
        if (b.poolName != null && b.poolName.isBlank()) {
            throw new IllegalArgumentException("poolName: got a blank name; allowed: a non-blank name, or "
                    + "none for a generated one");
        }
        r.exceptionOverride = resolveOverride(b);
        r.metricsTrackerFactory = resolveMetrics(b);
        r.poolName = b.poolName != null ? b.poolName : "ferry-" + nextPoolNumber();
        return r;
    }

    /** perUserPoolSize and maxUserPools (see FerryConfig.Builder#perUserPoolSize). */
    private static void userPools(FerryConfig.Builder b, int maximumPoolSize) {
        require("perUserPoolSize", b.perUserPoolSize, b.perUserPoolSize >= 0 && b.perUserPoolSize <= maximumPoolSize,
                "0 (getConnection(username, password) refused) to maximumPoolSize (" + maximumPoolSize
                        + "): per-user pools share the data source's budget");
        require("maxUserPools", b.maxUserPools, b.maxUserPools >= 1 && b.maxUserPools <= 10_000, "1 to 10000");
        if (set(b, "maxUserPools") && b.perUserPoolSize == 0) {
            throw new IllegalArgumentException("maxUserPools: got " + b.maxUserPools + " with perUserPoolSize 0; "
                    + "allowed: only with perUserPoolSize above 0 (without it there are no per-user pools)");
        }
        if (b.perUserPoolSize > 0 && b.jdbcUrl != null && urlNamesCredentials(b.jdbcUrl)) {
            throw new IllegalArgumentException("perUserPoolSize: got " + b.perUserPoolSize + " with jdbcUrl "
                    + FerryConfig.maskUrl(b.jdbcUrl) + ", which names a user or password; allowed: a jdbcUrl without "
                    + "them (the driver would log every user's pool in as the URL's user)");
        }
    }

    /** Whether a JDBC URL carries a user or password: as a parameter, or as {@code //user[:password]@host}. */
    static boolean urlNamesCredentials(String jdbcUrl) {
        String url = jdbcUrl.toLowerCase(java.util.Locale.ROOT);
        int query = url.indexOf('?');
        int authority = url.indexOf("//");
        if (authority >= 0 && (query < 0 || authority < query)) {
            int end = authority + 2;
            while (end < url.length() && "/?;".indexOf(url.charAt(end)) < 0) {
                end++;
            }
            if (url.substring(authority + 2, end).contains("@")) {
                return true;
            }
        }
        for (String param : url.split("[?&;]")) {
            int eq = param.indexOf('=');
            String key = eq < 0 ? "" : param.substring(0, eq).trim();
            if (key.equals("user") || key.equals("username") || key.equals("password")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The next number for a generated pool name, counted in a system property rather than a static field: two web
     * applications in one container load Ferry twice, and per-loader numbers would both start at ferry-1 (then the
     * second pool's JMX beans clash with the first's). The lock is the one {@code Properties} itself takes.
     */
    private static int nextPoolNumber() {
        java.util.Properties system = System.getProperties();
        synchronized (system) {
            int next = Integer.getInteger(POOL_NUMBER_PROPERTY, 0) + 1;
            System.setProperty(POOL_NUMBER_PROPERTY, String.valueOf(next));
            return next;
        }
    }

    /**
     * HikariCP treats blank strings as unset (Spring Boot binds an empty {@code connection-init-sql=} so), and
     * trims the rest. jdbcUrl stays as given: a blank or padded URL is reported as such below.
     */
    private static void blanksToNull(FerryConfig.Builder b) {
        b.catalog = trimToNull(b.catalog);
        b.connectionInitSql = trimToNull(b.connectionInitSql);
        b.connectionTestQuery = trimToNull(b.connectionTestQuery);
        b.transactionIsolation = trimToNull(b.transactionIsolation);
        b.dataSourceClassName = trimToNull(b.dataSourceClassName);
        b.driverClassName = trimToNull(b.driverClassName);
        b.exceptionOverrideClassName = trimToNull(b.exceptionOverrideClassName);
    }

    private static String trimToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static boolean set(FerryConfig.Builder b, String setting) {
        return b.explicit.contains(setting);
    }

    private static void adapt(Resolved r, String setting, Object from, Object to, String why) {
        r.adaptations.add(setting + " " + from + " -> " + to + " (" + why + ")");
    }

    // ---------------------------------------------------------------- where connections come from

    private static void resolveSource(FerryConfig.Builder b, Resolved r) {
        int sources = (b.dataSource != null ? 1 : 0) + (b.dataSourceClassName != null ? 1 : 0)
                + (b.jdbcUrl != null ? 1 : 0);
        if (sources > 1) {
            throw new IllegalArgumentException("jdbcUrl, dataSourceClassName and dataSource: got "
                    + (b.jdbcUrl != null ? "jdbcUrl " : "") + (b.dataSourceClassName != null
                    ? "dataSourceClassName " : "") + (b.dataSource != null ? "dataSource " : "")
                    + "; allowed: exactly one of them (HikariCP ignores all but one; Ferry refuses to guess)");
        }
        if (b.dataSource != null) {
            r.dataSource = b.dataSource;
            return;
        }
        if (b.dataSourceClassName != null) {
            if (b.driverClassName != null) {
                throw new IllegalArgumentException("driverClassName: got '" + b.driverClassName + "' with "
                        + "dataSourceClassName '" + b.dataSourceClassName + "'; allowed: one of them (HikariCP also "
                        + "refuses this pair)");
            }
            r.dataSource = DataSourceBeans.create(b.dataSourceClassName, b.dataSourceProperties);
            return;
        }
        checkUrl(b.jdbcUrl);
        r.driver = resolveDriver(b.jdbcUrl, b.driverClassName);
    }

    private static void checkUrl(String jdbcUrl) {
        if (jdbcUrl == null || jdbcUrl.isBlank()) {
            throw new IllegalArgumentException("jdbcUrl: got " + (jdbcUrl == null ? "null" : "a blank URL")
                    + "; allowed: a JDBC URL such as jdbc:postgresql://host:5432/db (or set dataSourceClassName "
                    + "or dataSource instead)");
        }
        int colon = jdbcUrl.indexOf(':', 5);
        if (!jdbcUrl.startsWith("jdbc:") || colon <= 5 || jdbcUrl.trim().length() != jdbcUrl.length()) {
            throw new IllegalArgumentException("jdbcUrl: malformed URL '" + Secrets.maskUrl(jdbcUrl)
                    + "'; allowed: jdbc:<subprotocol>:<details>, e.g. jdbc:postgresql://host:5432/db");
        }
    }

    private static Driver resolveDriver(String jdbcUrl, String driverClassName) {
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

    static Class<?> loadClass(String name) {
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

    // ---------------------------------------------------------------- exception override

    /** Class of ferry-micrometer's factory, made by reflection so core needs neither it nor Micrometer. */
    static final String MICROMETER_FACTORY = "dev.ferry.micrometer.MicrometerMetricsTrackerFactory";

    static dev.ferry.observe.MetricsTrackerFactory resolveMetrics(FerryConfig.Builder b) {
        Object registry = b.metricRegistry;
        if (registry == null) {
            return b.metricsTrackerFactory;
        }
        if (b.metricsTrackerFactory != null) {
            throw new IllegalArgumentException("metricRegistry and metricsTrackerFactory: got both; allowed: one "
                    + "of them (as in HikariCP)");
        }
        Class<?> factory;
        try {
            factory = Class.forName(MICROMETER_FACTORY, true, FerryConfig.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalArgumentException("metricRegistry: got a " + registry.getClass().getName()
                    + "; allowed: a Micrometer MeterRegistry, with dev.ferry:ferry-micrometer on the class path (it "
                    + "is not)");
        }
        for (java.lang.reflect.Constructor<?> c : factory.getConstructors()) {
            if (c.getParameterCount() == 1 && c.getParameterTypes()[0].isInstance(registry)) {
                try {
                    return (dev.ferry.observe.MetricsTrackerFactory) c.newInstance(registry);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalArgumentException("metricRegistry: could not bind "
                            + registry.getClass().getName() + ": " + e, e);
                }
            }
        }
        throw new IllegalArgumentException("metricRegistry: got a " + registry.getClass().getName()
                + "; allowed: a Micrometer io.micrometer.core.instrument.MeterRegistry (HikariCP's Dropwizard "
                + "MetricRegistry is not supported)");
    }

    /**
     * The credentials provider: the one given, or an instance of credentialsProviderClassName (Ferry's interface,
     * or HikariCP 7's {@code HikariCredentialsProvider}, adapted by reflection).
     */
    private static CredentialsProvider resolveCredentials(FerryConfig.Builder b) {
        String name = b.credentialsProviderClassName;
        if (name == null) {
            return b.credentialsProvider;
        }
        if (b.credentialsProvider != null) {
            throw new IllegalArgumentException("credentialsProviderClassName and credentialsProvider: got both; "
                    + "allowed: one of them");
        }
        if (b.resolvedCredentials != null) {
            return b.resolvedCredentials; // a configuration derived from one built (a replica's): the same instance
        }
        Object instance = newInstanceOf("credentialsProviderClassName", name);
        Class<?> type = instance.getClass();
        if (instance instanceof CredentialsProvider provider) {
            return provider;
        }
        // HikariCP 7's HikariCredentialsProvider: getCredentials() gives a Credentials with getUsername/getPassword.
        Method get;
        Method user;
        Method password;
        try {
            get = type.getMethod("getCredentials");
            user = get.getReturnType().getMethod("getUsername");
            password = get.getReturnType().getMethod("getPassword");
            if (user.getReturnType() != String.class || password.getReturnType() != String.class) {
                throw new NoSuchMethodException("getUsername/getPassword do not return String");
            }
            get.setAccessible(true);
            user.setAccessible(true);
            password.setAccessible(true);
        } catch (NoSuchMethodException | RuntimeException e) {
            throw new IllegalArgumentException("credentialsProviderClassName: class '" + name + "' implements "
                    + "neither dev.ferry.CredentialsProvider nor HikariCP's HikariCredentialsProvider (a "
                    + "getCredentials() whose result has String getUsername() and getPassword())", e);
        }
        return new HikariCredentials(name, instance, get, user, password);
    }

    /**
     * HikariCP 7's {@code HikariCredentialsProvider}, called by reflection. Failures name the provider and the
     * exception's class only: a provider's message may carry the secret it could not use, and these are logged.
     */
    private record HikariCredentials(String name, Object provider, Method get, Method user, Method password)
            implements CredentialsProvider {

        @Override
        public Credentials credentials() throws SQLException {
            Object credentials;
            try {
                credentials = get.invoke(provider);
            } catch (java.lang.reflect.InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (cause instanceof SQLException sql) {
                    throw sql;
                }
                throw new SQLException(name + ".getCredentials threw " + cause.getClass().getName(), "08001", cause);
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new SQLException(name + ".getCredentials could not be called: " + e.getClass().getName(),
                        "08001", e);
            }
            if (credentials == null) {
                throw new SQLException(name + ".getCredentials returned null", "08001");
            }
            try {
                return Credentials.of((String) user.invoke(credentials), (String) password.invoke(credentials));
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new SQLException(name + ".getCredentials gave credentials that could not be read: "
                        + e.getClass().getName(), "08001", e);
            }
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * An instance of the class a {@code ...ClassName} setting names, by its public no-argument constructor.
     *
     * @throws IllegalArgumentException naming the setting, if the class is missing or cannot be instantiated
     */
    private static Object newInstanceOf(String setting, String name) {
        Class<?> type = loadClass(name);
        if (type == null) {
            throw new IllegalArgumentException(setting + ": class '" + name + "' is not on the classpath");
        }
        try {
            return type.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalArgumentException(setting + ": could not instantiate '" + name
                    + "' (it needs a public no-argument constructor): " + e, e);
        }
    }

    private static ExceptionOverride resolveOverride(FerryConfig.Builder b) {
        if (b.exceptionOverrideClassName == null) {
            return b.exceptionOverride;
        }
        if (b.exceptionOverride != null) {
            throw new IllegalArgumentException("exceptionOverrideClassName and exceptionOverride: got both; "
                    + "allowed: one of them");
        }
        String name = b.exceptionOverrideClassName;
        Object instance = newInstanceOf("exceptionOverrideClassName", name);
        Class<?> type = instance.getClass();
        if (instance instanceof ExceptionOverride) {
            return (ExceptionOverride) instance;
        }
        // A HikariCP SQLExceptionOverride: same method name, an enum with the same constant names.
        Method adjudicate;
        try {
            adjudicate = type.getMethod("adjudicate", SQLException.class);
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException("exceptionOverrideClassName: class '" + name + "' implements "
                    + "neither dev.ferry.ExceptionOverride nor HikariCP's SQLExceptionOverride");
        }
        adjudicate.setAccessible(true);
        return e -> {
            try {
                Object decision = adjudicate.invoke(instance, e);
                return decision == null ? ExceptionOverride.Decision.CONTINUE_EVICT
                        : ExceptionOverride.Decision.valueOf(((Enum<?>) decision).name());
            } catch (ReflectiveOperationException | IllegalArgumentException | ClassCastException ex) {
                throw new IllegalStateException(name + ".adjudicate failed: " + ex, ex);
            }
        };
    }

    // ---------------------------------------------------------------- small helpers

    /** Vendor levels HikariCP also accepts by name: DB2's cursor stability and last committed, SQL Server's snapshot. */
    private static final Map<String, Integer> VENDOR_LEVELS = Map.of(
            "TRANSACTION_CURSOR_STABILITY", 3,
            "TRANSACTION_LAST_COMMITTED", 5,
            "TRANSACTION_SQL_SERVER_SNAPSHOT_ISOLATION_LEVEL", 4096);

    static Integer parseIsolation(String value) {
        if (value == null) {
            return null;
        }
        String v = value.trim().toUpperCase(Locale.ROOT);
        try {
            int level = Integer.parseInt(v);
            if (VENDOR_LEVELS.containsValue(level)) {
                return level;
            }
            for (Field f : Connection.class.getFields()) {
                if (f.getName().startsWith("TRANSACTION_") && Modifier.isStatic(f.getModifiers())
                        && f.getInt(null) == level && level != Connection.TRANSACTION_NONE) {
                    return level;
                }
            }
        } catch (NumberFormatException | IllegalAccessException e) {
            String name = v.startsWith("TRANSACTION_") ? v : "TRANSACTION_" + v;
            if (VENDOR_LEVELS.containsKey(name)) {
                return VENDOR_LEVELS.get(name);
            }
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
                + "TRANSACTION_SERIALIZABLE (or their numbers 1, 2, 4, 8), or HikariCP's vendor levels "
                + "TRANSACTION_CURSOR_STABILITY (3), TRANSACTION_LAST_COMMITTED (5), "
                + "TRANSACTION_SQL_SERVER_SNAPSHOT_ISOLATION_LEVEL (4096)");
    }

    static String ms(Duration d) {
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

    private static void notNegative(String setting, Duration d, String allowed) {
        if (d == null || d.isNegative()) {
            throw new IllegalArgumentException(setting + ": got " + ms(d) + "; allowed: "
                    + (allowed != null ? allowed : "0 (disabled) or a positive duration"));
        }
    }
}
