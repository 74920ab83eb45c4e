package dev.ferry.batch;

import java.sql.SQLException;
import java.util.List;

/**
 * The outcomes of one batch's requests, collected while it runs and applied to their futures only after its slot
 * is released ({@link #complete}): completing a future runs the caller's callbacks, which must not run under a
 * lock or while a slot is held. The outcome is kept on each request ({@link Request#decided}); only the one
 * thread that runs the batch touches it, so plain fields do.
 */
final class Outcomes<K, V> {

    private final List<Request<K, V>> batch;

    Outcomes(List<Request<K, V>> batch) {
        this.batch = batch;
    }

    boolean isOpen(Request<K, V> r) {
        return !r.decided;
    }

    /** The first outcome recorded for a request is its outcome. */
    void succeed(Request<K, V> r, V value) {
        if (!r.decided) {
            r.decided = true;
            r.value = value;
        }
    }

    void fail(Request<K, V> r, SQLException e) {
        if (!r.decided) {
            r.decided = true;
            r.error = e;
        }
    }

    /** Fails a request that has no outcome yet (the batch broke off). */
    void failIfOpen(Request<K, V> r, SQLException e) {
        fail(r, e);
    }

    void complete(Batcher<K, V> batcher) {
        for (Request<K, V> r : batch) {
            if (!r.decided) { // not expected (every path records one), but never leave a caller hanging
                batcher.fail(r, new SQLException("the batch ended without an outcome for this request; it may or "
                        + "may not have been executed", "HY000"));
            } else if (r.error != null) {
                batcher.fail(r, r.error);
            } else {
                r.future.complete(r.value);
            }
            r.value = null;
            r.error = null;
        }
    }
}
