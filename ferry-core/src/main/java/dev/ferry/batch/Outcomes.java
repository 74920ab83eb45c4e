package dev.ferry.batch;

import java.sql.SQLException;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The outcomes of one batch's requests, collected while it runs and applied to their futures only after its slot
 * is released ({@link #complete}): completing a future runs the caller's callbacks, which must not run under a
 * lock or while a slot is held. Used by the one thread that runs the batch.
 */
final class Outcomes<K, V> {

    private static final Object FAILED = new Object();

    private final Map<Request<K, V>, Object> values = new IdentityHashMap<>();
    private final Map<Request<K, V>, SQLException> errors = new IdentityHashMap<>();

    boolean isOpen(Request<K, V> r) {
        return !values.containsKey(r);
    }

    /** The first outcome recorded for a request is its outcome. */
    void succeed(Request<K, V> r, V value) {
        if (!values.containsKey(r)) {
            values.put(r, value);
        }
    }

    void fail(Request<K, V> r, SQLException e) {
        if (!values.containsKey(r)) {
            values.put(r, FAILED);
            errors.put(r, e);
        }
    }

    /** Fails a request that has no outcome yet (the batch broke off). */
    void failIfOpen(Request<K, V> r, SQLException e) {
        if (isOpen(r)) {
            fail(r, e);
        }
    }

    @SuppressWarnings("unchecked")
    void complete(Batcher<K, V> batcher) {
        for (Map.Entry<Request<K, V>, Object> e : values.entrySet()) {
            Request<K, V> r = e.getKey();
            SQLException error = errors.get(r);
            if (error != null) {
                batcher.fail(r, error);
            } else {
                r.future.complete((V) e.getValue());
            }
        }
    }
}
