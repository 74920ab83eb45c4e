package dev.ferry.cli;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Counts physical connections opened, whichever pool (or none) opens them: {@code jdbc:counting:<real URL>}
 * delegates to the driver of the real URL. This is how the demo shows "connections opened" for every mode alike.
 */
public final class CountingDriver implements Driver {

    static final String PREFIX = "jdbc:counting:";
    static final AtomicLong OPENED = new AtomicLong();
    /** The same count per pool, for pools run side by side: {@code jdbc:counting:{pool}<real URL>}. */
    private static final java.util.Map<String, AtomicLong> BY_POOL = new java.util.concurrent.ConcurrentHashMap<>();

    static {
        try {
            DriverManager.registerDriver(new CountingDriver());
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The counting form of a URL. */
    static String wrap(String url) {
        return PREFIX + url;
    }

    /** The counting form of a URL, also counted for {@code pool}. */
    static String wrap(String url, String pool) {
        return PREFIX + "{" + pool + "}" + url;
    }

    /** Connections opened so far through URLs wrapped for {@code pool}. */
    static long opened(String pool) {
        return BY_POOL.computeIfAbsent(pool, p -> new AtomicLong()).get();
    }

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) {
            return null;
        }
        String real = url.substring(PREFIX.length());
        String pool = null;
        if (real.startsWith("{")) {
            pool = real.substring(1, real.indexOf('}'));
            real = real.substring(real.indexOf('}') + 1);
        }
        Connection c = DriverManager.getDriver(real).connect(real, info);
        OPENED.incrementAndGet();
        if (pool != null) {
            BY_POOL.computeIfAbsent(pool, p -> new AtomicLong()).incrementAndGet();
        }
        return c;
    }

    @Override
    public boolean acceptsURL(String url) {
        return url != null && url.startsWith(PREFIX);
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        return new DriverPropertyInfo[0];
    }

    @Override
    public int getMajorVersion() {
        return 1;
    }

    @Override
    public int getMinorVersion() {
        return 0;
    }

    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }
}
