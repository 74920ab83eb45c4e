package dev.ferry.batch;

import dev.ferry.Priority;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Savepoint;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;

/**
 * Group commit: many callers' short transactions share one database transaction and one COMMIT, while each
 * caller keeps all-or-nothing for its own statements.
 *
 * <pre>{@code
 * GroupCommit transfers = GroupCommit.builder(dataSource).build();
 * List<Integer> counts = transfers.execute(TransactionBatch.of(
 *         statement("UPDATE accounts SET balance = balance - ? WHERE id = ?", amount, from),
 *         statement("UPDATE accounts SET balance = balance + ? WHERE id = ?", amount, to)));
 * }</pre>
 *
 * <p><b>How.</b> Callers' transactions are batched like any request ({@link Batcher}). A batch runs on one
 * connection in one transaction: each caller's statements run inside its own SAVEPOINT; if one fails, that
 * savepoint is rolled back, which undoes exactly that caller's statements, and the caller gets its error while
 * the others go on. Then one COMMIT acknowledges every caller whose statements succeeded. A serialization
 * failure or deadlock rolls the whole group back (a new savepoint in the same transaction would meet the same
 * snapshot, and MySQL aborts the whole transaction on deadlock), and the group is retried. Callers not started
 * before the group's deadline (the earliest of its callers') fail with a timeout, unexecuted.
 *
 * <p><b>Guarantees.</b> A caller's future completes with its statements' update counts only after the shared
 * COMMIT returned. A caller whose savepoint was rolled back sees none of its statements committed. If the
 * COMMIT's outcome is unknown, every caller of the group gets {@link OutcomeUnknownException} and nothing is
 * re-executed; if the whole transaction fails before COMMIT, nothing of it committed and the callers get the error
 * (or the group is retried or split, by {@link ErrorPolicy}).
 *
 * <p><b>Trade-off.</b> Callers in one group see each other's uncommitted writes (they are one transaction), and
 * locks a caller takes are held until the group commits. Use it for independent short transactions (inserts,
 * counters, transfers between different rows); a caller that must not see another's uncommitted work should use
 * {@link TransactionBatch#execute} alone.
 */
public final class GroupCommit implements AutoCloseable {

    private final Batcher<Caller, List<Integer>> batcher;

    private GroupCommit(Batcher<Caller, List<Integer>> batcher) {
        this.batcher = batcher;
    }

    public static Builder builder(DataSource dataSource) {
        return new Builder(dataSource);
    }

    /** A caller's transaction, by identity: two callers with equal statements are two transactions. */
    static final class Caller {
        final TransactionBatch transaction;

        Caller(TransactionBatch transaction) {
            this.transaction = transaction;
        }
    }

    /** Queues a transaction; the future completes with its update counts after the group's COMMIT. */
    public CompletableFuture<List<Integer>> submit(TransactionBatch transaction) {
        return batcher.request(new Caller(Objects.requireNonNull(transaction, "transaction")), Priority.NORMAL,
                false).future;
    }

    /**
     * Runs a transaction in the next group and waits for the group's COMMIT.
     *
     * @throws OutcomeUnknownException if the COMMIT's outcome is unknown, or this thread was interrupted after the
     *                                 transaction was sent
     * @throws SQLException            this caller's own error (its statements were rolled back), or a timeout
     */
    public List<Integer> execute(TransactionBatch transaction) throws SQLException {
        return batcher.await(batcher.request(new Caller(Objects.requireNonNull(transaction, "transaction")),
                Priority.NORMAL, true));
    }

    public BatchStats stats() {
        return batcher.stats();
    }

    @Override
    public void close() {
        batcher.close();
    }

    /** Runs one group in one transaction, each caller in its own savepoint; commits once. */
    static Map<Caller, List<Integer>> runGroup(Connection c, List<Caller> callers, long deadline)
            throws SQLException {
        return Transactions.run(c, () -> {
            KeyedResult<Caller, List<Integer>> out = new KeyedResult<>(callers.size());
            for (Caller caller : callers) {
                if (deadline - System.nanoTime() <= 0) {
                    out.fail(caller, new SQLTimeoutException("the group's deadline passed before this transaction "
                            + "started; it was not executed", "HYT00"));
                    continue;
                }
                Savepoint savepoint = c.setSavepoint();
                try {
                    List<Integer> counts = caller.transaction.runOn(c, deadline);
                    c.releaseSavepoint(savepoint);
                    out.put(caller, List.copyOf(counts));
                } catch (SQLException e) {
                    if (ErrorPolicy.isConnectionFault(e) || ErrorPolicy.isSerializationFailure(e)) {
                        // The transaction is gone, or its snapshot conflicts (a new savepoint would conflict
                        // again; MySQL rolls the whole transaction back on deadlock): roll all back, nothing
                        // committed, and the batcher retries the group in a fresh transaction.
                        throw e;
                    }
                    c.rollback(savepoint); // undoes this caller's statements only; throws if the transaction is gone
                    out.fail(caller, e);
                }
            }
            return out;
        }, out -> !out.isEmpty()); // nobody succeeded: roll back
    }

    /** Group commit settings; {@link #build()} validates them. */
    public static final class Builder extends BatchSettings<Builder> {

        private Builder(DataSource dataSource) {
            super(dataSource, 100);
        }

        public GroupCommit build() {
            DataSource source = dataSource;
            BatchCall<Caller, List<Integer>> call = (callers, remaining, priority) -> {
                long deadline = System.nanoTime() + remaining;
                return onConnection(source, remaining, priority, c -> runGroup(c, callers, deadline));
            };
            return new GroupCommit(batcher(call, "group-commit", false));
        }
    }
}
