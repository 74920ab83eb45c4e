package dev.ferry.batch;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;

/** Classifies whole-batch failures: retry, split, or give up. */
final class ErrorKinds {

    private ErrorKinds() {
    }

    /** Serialization failure or deadlock: the database rolled the transaction back, so a retry is safe. */
    static boolean isSerializationFailure(SQLException e) {
        for (SQLException x = e; x != null; x = x.getNextException()) {
            String s = x.getSQLState();
            if ("40001".equals(s) || "40P01".equals(s) || x.getErrorCode() == 1213 /* MySQL deadlock */) {
                return true;
            }
        }
        return false;
    }

    /** The connection, not the data, failed: splitting the batch would not isolate anything. */
    static boolean isConnectionFault(SQLException e) {
        for (SQLException x = e; x != null; x = x.getNextException()) {
            String s = x.getSQLState();
            if (x instanceof SQLRecoverableException || (s != null && (s.startsWith("08") || s.startsWith("57P")))) {
                return true;
            }
        }
        return false;
    }
}
