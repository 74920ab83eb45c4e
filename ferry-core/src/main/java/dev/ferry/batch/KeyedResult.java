package dev.ferry.batch;

import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * A batch's values with the keys that failed on their own (a binder or row reader threw for that key): those
 * keys' callers get their error, the others their value, and nothing is re-executed.
 */
final class KeyedResult<K, V> extends HashMap<K, V> {

    private static final long serialVersionUID = 1L;
    private final Map<K, SQLException> failures = new HashMap<>();

    KeyedResult(int expected) {
        super(Math.max(16, expected * 2));
    }

    void fail(K key, SQLException e) {
        failures.putIfAbsent(key, e);
        remove(key);
    }

    Map<K, SQLException> failures() {
        return failures;
    }
}
