package dev.ferry.bench;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

/**
 * Pool overhead of a borrow and a return, nothing else: {@code getConnection()} then {@code close()} on a stub
 * driver that does no I/O.
 *
 * <pre>
 * java -jar ferry-bench/target/benchmarks.jar ConnectionCycle -p pool=ferry,hikari -p poolSize=16 -t 4
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ConnectionCycle {

    @Benchmark
    public Connection cycle(PoolState state) throws SQLException {
        Connection connection = state.dataSource.getConnection();
        connection.close();
        return connection;
    }
}
