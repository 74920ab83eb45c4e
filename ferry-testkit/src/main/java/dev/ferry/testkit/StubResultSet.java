package dev.ferry.testkit;

import java.sql.Statement;

/** A result set of one row whose columns read as 1. */
final class StubResultSet extends NeutralResultSet {

    private final Statement statement;
    private int row;
    private boolean closed;

    StubResultSet(Statement statement) {
        this.statement = statement;
    }

    @Override
    public boolean next() {
        return row++ == 0;
    }

    @Override
    public int getInt(int column) {
        return 1;
    }

    @Override
    public Statement getStatement() {
        return statement;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }
}
