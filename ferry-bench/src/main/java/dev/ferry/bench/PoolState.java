package dev.ferry.bench;

import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import javax.sql.DataSource;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** One pool per trial, chosen by {@code -p pool=...}, on a stub database, warmed to full size. */
@State(Scope.Benchmark)
public class PoolState {

    @Param({"ferry", "hikari", "ferry-lanes", "ferry-micrometer", "hikari-micrometer", "ferry-micrometer-histograms",
            "ferry-sqlstats"})
    public String pool;

    @Param({"16"})
    public int poolSize;

    DataSource dataSource;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dataSource = PoolFactory.named(pool).create(StubDatabase.create().url(), poolSize);
        // Borrow every connection once so all pools start the measurement full, whatever their fill strategy.
        Connection[] all = new Connection[poolSize];
        for (int i = 0; i < poolSize; i++) {
            all[i] = dataSource.getConnection();
        }
        for (Connection c : all) {
            c.close();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        PoolFactory.close(dataSource);
    }
}
