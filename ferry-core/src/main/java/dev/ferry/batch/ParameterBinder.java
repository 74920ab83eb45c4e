package dev.ferry.batch;

import java.sql.PreparedStatement;
import java.sql.SQLException;

/** Sets one request's parameters on a prepared statement. */
@FunctionalInterface
public interface ParameterBinder<R> {

    void bind(PreparedStatement statement, R request) throws SQLException;
}
