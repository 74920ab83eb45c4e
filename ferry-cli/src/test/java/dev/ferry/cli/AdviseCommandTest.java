package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ferry advise} on real PostgreSQL, as a user runs it. */
class AdviseCommandTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void table() throws Exception {
        try (Connection c = DriverManager.getConnection(LoadCommandTest.PG); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_cli_advise");
            s.execute("CREATE TABLE ferry_cli_advise (id bigint PRIMARY KEY, col bigint, note text)");
            s.execute("INSERT INTO ferry_cli_advise SELECT g, g, 'n' || g FROM generate_series(1, 200000) g");
            s.execute("ANALYZE ferry_cli_advise");
            s.execute("CREATE EXTENSION IF NOT EXISTS hypopg");
        }
    }

    @AfterAll
    static void drop() throws Exception {
        try (Connection c = DriverManager.getConnection(LoadCommandTest.PG); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ferry_cli_advise");
        }
    }

    @Test
    void printsACreateIndexForAnUnindexedColumn() throws Exception {
        Path file = dir.resolve("statements.sql");
        Files.writeString(file, "-- from topSlowest\nSELECT note FROM ferry_cli_advise WHERE id = ?\n");
        CliRun run = CliRun.of("advise", "--url", LoadCommandTest.PG, "--sql",
                "SELECT * FROM ferry_cli_advise WHERE col = 42", "--from", file.toString());
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("CREATE INDEX ON public.ferry_cli_advise (col);",
                "Seq Scan on public.ferry_cli_advise", "with the index (hypopg)",
                "-- SELECT note FROM ferry_cli_advise WHERE id = ?", "no index proposed",
                "1 index proposed for 2 statements");
    }

    @Test
    void refusesWhatItCannotDo() {
        CliRun h2 = CliRun.of("advise", "--url", "jdbc:h2:mem:x", "--sql", "SELECT 1");
        assertThat(h2.exit()).isEqualTo(2);
        assertThat(h2.err()).contains("--url: got jdbc:h2:mem:x; allowed: a PostgreSQL JDBC URL");
        CliRun none = CliRun.of("advise", "--url", LoadCommandTest.PG);
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("--sql or --from: got no statement");
        CliRun bad = CliRun.of("advise", "--url", LoadCommandTest.PG, "--sql", "SELECT * FROM no_such_table_here");
        assertThat(bad.exit()).isZero();
        assertThat(bad.out()).contains("could not explain it:", "no_such_table_here");
    }
}
