package dev.ferry.cli;

import dev.ferry.FerryConfig;
import dev.ferry.observe.IndexAdvice;
import dev.ferry.observe.IndexAdvisor;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ferry advise}: index proposals for PostgreSQL statements, from their plans (see {@link IndexAdvisor}).
 * Statements come from {@code --sql}, a file ({@code --from FILE}: one statement per line, such as the
 * fingerprints {@code SqlStatistics.topSlowest} gives) or the database's own {@code pg_stat_statements}
 * ({@code --from pg_stat_statements}: its statements with the longest mean time).
 */
@Command(name = "advise", mixinStandardHelpOptions = true,
        description = "Propose indexes for PostgreSQL statements from their execution plans.")
final class AdviseCommand implements Callable<Integer> {

    @Option(names = "--url", required = true, description = "JDBC URL of the PostgreSQL database")
    String url;

    @Mixin
    Credentials credentials;

    @Option(names = "--sql", description = "a statement to advise on (repeatable); ? and $1 parameters are fine")
    List<String> sql = new ArrayList<>();

    @Option(names = "--from", paramLabel = "FILE|pg_stat_statements",
            description = "more statements: a file with one per line, or pg_stat_statements (the slowest by mean)")
    String from;

    @Option(names = "--top", defaultValue = "10", description = "statements taken from pg_stat_statements "
            + "(default 10)")
    int top;

    @Option(names = "--analyze", description = "run SELECT statements with EXPLAIN ANALYZE (actual rows and "
            + "time; the statements run, in a transaction rolled back)")
    boolean analyze;

    @Option(names = "--min-rows", defaultValue = "10000", description = "smallest table worth an index, in rows "
            + "(default 10000)")
    long minRows;

    @Override
    public Integer call() throws Exception {
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("--url: got " + FerryConfig.maskUrl(url) + "; allowed: a PostgreSQL "
                    + "JDBC URL (jdbc:postgresql://...): the advisor reads PostgreSQL plans");
        }
        IndexAdvisor advisor = IndexAdvisor.create().analyze(analyze).minTableRows(minRows);
        PrintStream out = System.out;
        try (Connection c = DriverManager.getConnection(url, credentials.properties())) {
            List<String> statements = new ArrayList<>(sql);
            statements.addAll(from(c));
            if (statements.isEmpty()) {
                throw new IllegalArgumentException("--sql or --from: got no statement; allowed: at least one");
            }
            if (!IndexAdvisor.hypopgInstalled(c)) {
                out.println("-- hypopg is not installed in this database: costs with each index are not shown "
                        + "(CREATE EXTENSION hypopg, where the package is installed, to see them)");
            }
            int proposals = 0;
            for (String statement : statements) {
                statement.lines().forEach(line -> out.println("-- " + line)); // only the proposals run in psql
                List<IndexAdvice> advice;
                try {
                    advice = advisor.advise(c, statement);
                } catch (SQLException e) {
                    out.println("--   could not explain it: " + LoadCommand.describe(e));
                    continue;
                }
                if (advice.isEmpty()) {
                    out.println("--   no index proposed: its plan has no selective sequential scan of a large table");
                }
                for (IndexAdvice a : advice) {
                    proposals++;
                    out.println(a.createIndex() + ";");
                    out.println("--   " + a.reason());
                    out.println(String.format(Locale.ROOT, "--   planner cost %.2f now", a.costBefore())
                            + (a.hasCostAfter() ? String.format(Locale.ROOT, ", %.2f with the index (hypopg)",
                            a.costAfter()) : ""));
                }
            }
            out.println("-- " + proposals + " index" + (proposals == 1 ? "" : "es") + " proposed for "
                    + statements.size() + " statement" + (statements.size() == 1 ? "" : "s"));
        }
        return 0;
    }

    private List<String> from(Connection c) throws IOException, SQLException {
        if (from == null) {
            return List.of();
        }
        if (from.equals("pg_stat_statements")) {
            List<String> out = new ArrayList<>();
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT query FROM pg_stat_statements WHERE query ILIKE 'select%' "
                         + "AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                         + "ORDER BY mean_exec_time DESC LIMIT " + Math.max(1, top))) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            } catch (SQLException e) {
                throw new IllegalArgumentException("--from pg_stat_statements: could not read it ("
                        + LoadCommand.describe(e) + "); it needs the pg_stat_statements extension in this database");
            }
            return out;
        }
        Path file = Path.of(from);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--from: got '" + from + "'; allowed: a file of statements (one per "
                    + "line) or pg_stat_statements");
        }
        return Files.readAllLines(file).stream().map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("--"))
                .toList();
    }
}
