package dev.ferry.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.FerryConfig;
import dev.ferry.FerryDataSource;
import dev.ferry.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Locale;
import javax.sql.DataSource;
import org.apache.commons.dbcp2.BasicDataSource;

/**
 * The pools under comparison, each built with the same size and equivalent settings (fixed size, no
 * validation on every borrow, 30 s connection timeout), selected by name from a JMH {@code @Param}.
 */
public enum PoolFactory {
    FERRY {
        @Override
        public DataSource create(String url, int poolSize) {
            return new FerryDataSource(ferry(url, poolSize, "bench-ferry").build());
        }
    },
    /**
     * Ferry with lanes configured, borrowed through one of them: "web" (minimum half the pool, cap the pool,
     * weight 3) and "reports" (minimum 0, cap half the pool, weight 1); the benchmark borrows in "web", so
     * every borrow and return also takes and gives back a lane permit.
     */
    FERRY_LANES {
        @Override
        public DataSource create(String url, int poolSize) {
            FerryDataSource ds = new FerryDataSource(ferry(url, poolSize, "bench-ferry-lanes")
                    .lane("web", poolSize / 2, poolSize, 3).lane("reports", 0, Math.max(1, poolSize / 2), 1)
                    .build());
            return ds.lane("web");
        }
    },
    /**
     * Ferry reporting to Micrometer (ferry-micrometer, a SimpleMeterRegistry): every borrow and return records
     * the acquire and usage timers (without percentile histograms, the binding's default, as HikariCP's).
     */
    FERRY_MICROMETER {
        @Override
        public DataSource create(String url, int poolSize) {
            return new FerryDataSource(ferry(url, poolSize, "bench-ferry-micrometer")
                    .metricRegistry(new SimpleMeterRegistry()).build());
        }
    },
    /** As FERRY_MICROMETER, with percentile histograms on the acquire and usage timers (what the dashboard reads). */
    FERRY_MICROMETER_HISTOGRAMS {
        @Override
        public DataSource create(String url, int poolSize) {
            return new FerryDataSource(ferry(url, poolSize, "bench-ferry-micrometer-histograms")
                    .metricsTrackerFactory(new MicrometerMetricsTrackerFactory(new SimpleMeterRegistry())
                            .withPercentileHistograms())
                    .build());
        }
    },
    /** Ferry keeping SQL statistics: every execute is timed and counted under its fingerprint. */
    FERRY_SQLSTATS {
        @Override
        public DataSource create(String url, int poolSize) {
            return new FerryDataSource(ferry(url, poolSize, "bench-ferry-sqlstats").sqlStatistics(true).build());
        }
    },
    /** HikariCP with its own Micrometer tracker on a SimpleMeterRegistry (HikariCP's setMetricRegistry). */
    HIKARI_MICROMETER {
        @Override
        public DataSource create(String url, int poolSize) {
            HikariConfig config = hikari(url, poolSize, "bench-hikari-micrometer");
            config.setMetricRegistry(new SimpleMeterRegistry());
            return new HikariDataSource(config);
        }
    },
    HIKARI {
        @Override
        public DataSource create(String url, int poolSize) {
            return new HikariDataSource(hikari(url, poolSize, "bench-hikari"));
        }
    },
    DBCP2 {
        @Override
        public DataSource create(String url, int poolSize) {
            BasicDataSource ds = new BasicDataSource();
            ds.setUrl(url);
            ds.setDriverClassName(STUB_DRIVER);
            ds.setMaxTotal(poolSize);
            ds.setMaxIdle(poolSize);
            ds.setMinIdle(poolSize);
            ds.setInitialSize(poolSize);
            ds.setMaxWait(Duration.ofSeconds(30));
            ds.setTestOnBorrow(false);
            return ds;
        }
    };

    static final String STUB_DRIVER = "dev.ferry.testkit.StubDriver";

    /** What every Ferry variant shares: a fixed pool of {@code poolSize} on the stub driver, a 30 s timeout. */
    static FerryConfig.Builder ferry(String url, int poolSize, String name) {
        return FerryConfig.builder().jdbcUrl(url).driverClassName(STUB_DRIVER)
                .maximumPoolSize(poolSize).minimumIdle(poolSize).connectionTimeout(Duration.ofSeconds(30))
                .poolName(name);
    }

    /** The same settings for HikariCP. */
    static HikariConfig hikari(String url, int poolSize, String name) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setDriverClassName(STUB_DRIVER);
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(poolSize);
        config.setConnectionTimeout(30_000);
        config.setPoolName(name);
        return config;
    }

    /** A started pool of {@code poolSize} connections on the stub database at {@code url}. */
    public abstract DataSource create(String url, int poolSize) throws Exception;

    public static PoolFactory named(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /** Closes whichever pool this is (a lane view closes the pool behind it). */
    public static void close(DataSource ds) throws Exception {
        if (ds instanceof AutoCloseable) {
            ((AutoCloseable) ds).close();
        } else if (ds.isWrapperFor(FerryDataSource.class)) {
            ds.unwrap(FerryDataSource.class).close();
        }
    }
}
