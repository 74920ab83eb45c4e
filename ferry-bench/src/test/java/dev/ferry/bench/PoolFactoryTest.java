package dev.ferry.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testkit.StubDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every pool the benchmarks compare starts on the stub driver, lends, runs a statement and stops. */
class PoolFactoryTest {

    @ParameterizedTest
    @EnumSource(PoolFactory.class)
    void poolWorksOnTheStubDriver(PoolFactory factory) throws Exception {
        StubDatabase db = StubDatabase.create();
        DataSource ds = factory.create(db.url(), 4);
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT 1");
             ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(1);
        } finally {
            PoolFactory.close(ds);
        }
        assertThat(db.executions.sum()).isEqualTo(1);
        assertThat(db.peakOpen.get()).isBetween(1, 4);
        assertThat(db.open.get()).as("closed with the pool").isZero();
    }

    @ParameterizedTest
    @EnumSource(PoolFactory.class)
    void namedMatchesTheJmhParameter(PoolFactory factory) {
        assertThat(PoolFactory.named(factory.name().toLowerCase())).isSameAs(factory);
    }
}
