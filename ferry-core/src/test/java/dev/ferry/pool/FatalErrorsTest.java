package dev.ferry.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class FatalErrorsTest {

    private static final FatalErrors POSTGRES = FatalErrors.forSource("jdbc:postgresql://db/app", "org.postgresql.Driver");
    private static final FatalErrors MARIADB = FatalErrors.forSource("jdbc:mariadb://db/app", "org.mariadb.jdbc.Driver");

    @Test
    void vendorErrorCodesApplyOnlyToTheirVendor() {
        SQLException goneAway = new SQLException("server has gone away", "HY000", 2006);
        assertThat(MARIADB.isFatal(goneAway)).isTrue();
        assertThat(POSTGRES.isFatal(goneAway)).as("2006 means nothing special on PostgreSQL").isFalse();
        assertThat(FatalErrors.forSource(null, "org.mariadb.jdbc.MariaDbDataSource").isFatal(goneAway)).isTrue();
    }

    @Test
    void serverClosedSessionsAreFatal() {
        for (String state : new String[] {"57P01", "57P02", "57P03", "57P05", "25P03", "0A000", "08006", "08003"}) {
            assertThat(POSTGRES.isFatal(new SQLException("x", state))).as(state).isTrue();
        }
        for (String state : new String[] {"23505", "42601", "40001", "57014", "22012"}) {
            assertThat(POSTGRES.isFatal(new SQLException("x", state))).as(state).isFalse();
        }
    }

    @Test
    void aChainedFatalStateCounts() {
        SQLException top = new SQLException("batch failed", "HY000");
        top.setNextException(new SQLException("terminated", "57P01"));
        assertThat(POSTGRES.isFatal(top)).isTrue();
    }
}
