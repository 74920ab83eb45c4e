package dev.ferry.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

/**
 * Pool overhead of a whole request on a stub driver: borrow a connection, prepare, execute, read the row, close
 * result set, statement and connection. This exercises every proxy (connection, statement, result set),
 * statement tracking and the state reset on return. The connection is borrowed per operation rather than held
 * per thread so that the same benchmark runs with more threads than connections (32 threads on a pool of 8).
 *
 * <pre>
 * java -jar ferry-bench/target/benchmarks.jar StatementCycle -p pool=ferry,hikari -p poolSize=16 -t 4
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class StatementCycle {

    @Benchmark
    public int cycle(PoolState state) throws SQLException {
        try (Connection connection = state.dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement("SELECT 1");
             ResultSet rows = statement.executeQuery()) {
            return rows.next() ? rows.getInt(1) : 0;
        }
    }
}
