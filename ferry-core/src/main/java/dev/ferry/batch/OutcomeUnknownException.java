package dev.ferry.batch;

import java.sql.SQLException;

/**
 * The write may or may not have committed: the connection was lost during COMMIT, or the caller stopped waiting
 * (interrupt) after the write had been sent. Ferry never re-executes such a write; the application must check
 * (for example by reading the row back) before deciding to write again.
 *
 * <p>SQLState {@value #SQLSTATE}: the SQL standard's "transaction resolution unknown".
 */
public final class OutcomeUnknownException extends SQLException {

    public static final String SQLSTATE = "08007";
    private static final long serialVersionUID = 1L;

    public OutcomeUnknownException(String message, Throwable cause) {
        super(message, SQLSTATE, cause);
    }
}
