package dev.ferry.batch;

import java.sql.ResultSet;
import java.sql.SQLException;

/** Reads one value from the current row of a result set. */
@FunctionalInterface
public interface RowReader<T> {

    T read(ResultSet row) throws SQLException;
}
