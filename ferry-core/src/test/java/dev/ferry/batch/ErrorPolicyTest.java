package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.batch.ErrorPolicy.Action;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Which whole-batch errors are retried, split, failed at once, or reported as an unknown outcome. */
class ErrorPolicyTest {

    private final ErrorPolicy writes = new ErrorPolicy(false, null);
    private final ErrorPolicy reads = new ErrorPolicy(true, null);

    @ParameterizedTest(name = "{0} ({1}) -> writes {2}, reads {3}")
    @CsvSource({
            "23505, 0, SPLIT, SPLIT",       // unique violation: a row's
            "23503, 0, SPLIT, SPLIT",       // foreign key
            "22001, 0, SPLIT, SPLIT",       // value too long
            "22023, 0, SPLIT, SPLIT",       // invalid parameter value
            "40001, 0, RETRY, RETRY",       // serialization failure
            "40P01, 0, RETRY, RETRY",       // deadlock
            "55P03, 0, FAIL, FAIL",         // lock timeout: the batch's, not a row's
            "42P01, 0, FAIL, FAIL",         // undefined table
            "42601, 0, FAIL, FAIL",         // syntax error
            "53200, 0, FAIL, FAIL",         // out of memory
            "25006, 0, FAIL, FAIL",         // read-only transaction
            "57014, 0, FAIL, FAIL",         // statement timeout
            "08006, 0, FAIL, RETRY",        // connection failure
            "57P01, 0, FAIL, RETRY",        // admin shutdown
            "90067, 0, FAIL, RETRY",        // H2: connection broken
            "08S01, 0, FAIL, RETRY",        // MariaDB: communication link failure
            "HY000, 1062, SPLIT, SPLIT",    // MariaDB duplicate entry reported as HY000
            "HY000, 2013, FAIL, RETRY",     // MySQL: lost connection during query
    })
    void classifiesByStateAndVendorCode(String state, int code, Action forWrites, Action forReads) {
        SQLException e = new SQLException("x", state, code);
        assertThat(writes.classify(e)).isEqualTo(forWrites);
        assertThat(reads.classify(e)).isEqualTo(forReads);
    }

    @Test
    void walksCausesAndNextExceptions() {
        SQLException wrapped = new SQLException("batch failed", "HY000", new SQLException("dup", "23505"));
        assertThat(writes.classify(wrapped)).isEqualTo(Action.SPLIT);

        BatchUpdateException batch = new BatchUpdateException("Batch entry 3 was aborted", "HY000", new int[0]);
        batch.setNextException(new SQLException("deadlock detected", "40P01"));
        assertThat(writes.classify(batch)).isEqualTo(Action.RETRY);

        SQLException lost = new SQLException("commit failed", "HY000", new SQLNonTransientConnectionException("gone"));
        assertThat(writes.classify(lost)).isEqualTo(Action.FAIL);
        assertThat(ErrorPolicy.isConnectionFault(new SQLTransientConnectionException("pool timeout"))).isTrue();
    }

    @Test
    void anUnknownOutcomeAnywhereInTheChainIsNeverRetriedOrSplit() {
        SQLException e = new SQLException("wrapped", "23505",
                new OutcomeUnknownException("COMMIT failed", new SQLException("x", "40001")));
        assertThat(writes.classify(e)).isEqualTo(Action.UNKNOWN_OUTCOME);
        assertThat(reads.classify(e)).isEqualTo(Action.UNKNOWN_OUTCOME);
    }

    @Test
    void aCommitIsCertainlyRolledBackOnlyWhenTheDatabaseSaysSo() {
        assertThat(ErrorPolicy.commitCertainlyRolledBack(new SQLException("x", "40001"))).isTrue();
        assertThat(ErrorPolicy.commitCertainlyRolledBack(new SQLException("deferred fk", "23503"))).isTrue();
        assertThat(ErrorPolicy.commitCertainlyRolledBack(new SQLException("lost", "08006"))).isFalse();
        assertThat(ErrorPolicy.commitCertainlyRolledBack(new SQLException("H2 broken", "90067"))).isFalse();
        assertThat(ErrorPolicy.commitCertainlyRolledBack(new SQLNonTransientConnectionException("gone", "08S01")))
                .isFalse();
        assertThat(ErrorPolicy.commitCertainlyRolledBack(new SQLException("??", "XX000"))).isFalse();
    }

    @Test
    void theUsersClassifierAddsRowErrors() {
        ErrorPolicy custom = new ErrorPolicy(false, e -> "P0001".equals(e.getSQLState()));
        assertThat(custom.classify(new SQLException("raise exception in trigger", "P0001"))).isEqualTo(Action.SPLIT);
        assertThat(custom.classify(new SQLException("x", "42P01"))).isEqualTo(Action.FAIL);
    }

    @Test
    void aCyclicCauseChainEnds() {
        SQLException a = new SQLException("a", "XX000");
        SQLException b = new SQLException("b", "XX001", a);
        a.setNextException(b);
        assertThat(writes.classify(a)).isEqualTo(Action.FAIL);
    }
}
