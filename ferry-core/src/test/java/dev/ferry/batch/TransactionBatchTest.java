package dev.ferry.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.FerryDataSource;
import dev.ferry.Postgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The seeds' token save + audit-log insert, atomic, on PostgreSQL. */
class TransactionBatchTest {

    private FerryDataSource pool;

    @BeforeEach
    void setUp() throws SQLException {
        pool = new FerryDataSource(Postgres.config(Postgres.uniqueApplicationName("txbatch")).maximumPoolSize(2)
                .build());
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_tx_audit");
            s.execute("DROP TABLE IF EXISTS ferry_tx_tokens");
            s.execute("CREATE TABLE ferry_tx_tokens (user_id BIGINT PRIMARY KEY, value TEXT NOT NULL)");
            s.execute("CREATE TABLE ferry_tx_audit (id SERIAL PRIMARY KEY, user_id BIGINT NOT NULL, "
                    + "action TEXT NOT NULL)");
        }
    }

    @AfterEach
    void tearDown() {
        pool.close();
    }

    private long count(String table) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void allStatementsCommitTogetherWithTheirCounts() throws Exception {
        var counts = TransactionBatch.of(
                TransactionBatch.statement("INSERT INTO ferry_tx_tokens VALUES (?, ?)", 1L, "t1"),
                TransactionBatch.statement("INSERT INTO ferry_tx_audit (user_id, action) VALUES (?, ?)", 1L, "saved"),
                TransactionBatch.statement("UPDATE ferry_tx_tokens SET value = ? WHERE user_id = ?", "t2", 1L))
                .execute(pool);
        assertThat(counts).containsExactly(1, 1, 1);
        assertThat(count("ferry_tx_tokens")).isEqualTo(1);
        assertThat(count("ferry_tx_audit")).isEqualTo(1);
    }

    @Test
    void anErrorRollsEverythingBackAndNamesTheStatement() throws Exception {
        assertThatThrownBy(() -> TransactionBatch.of(
                TransactionBatch.statement("INSERT INTO ferry_tx_tokens VALUES (?, ?)", 2L, "t"),
                TransactionBatch.statement("INSERT INTO ferry_tx_audit (user_id, action) VALUES (?, ?)", 2L, null))
                .execute(pool))
                .isInstanceOf(SQLException.class)
                .hasMessageStartingWith("statement 2 of 2 failed, all rolled back:")
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("23502"));
        assertThat(count("ferry_tx_tokens")).as("the first statement was rolled back").isZero();
        assertThat(count("ferry_tx_audit")).isZero();
    }

    @Test
    void needsAtLeastOneStatement() {
        assertThatThrownBy(TransactionBatch::of).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("statements: got none; allowed: at least one statement");
    }
}
