package dev.ferry.batch;

import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * Executes one batch: all the distinct keys at once, in one round trip where the implementation can.
 *
 * <p>A key absent from the returned map completes with {@code null} (the lookup helpers turn that into an empty
 * result). If the whole call throws, the batcher decides what to do by the error: retry (serialization failure,
 * deadlock, connection fault where retrying is safe), split the batch in two and retry the halves to isolate
 * the keys that fail (any other error), or fail the batch's callers.
 */
@FunctionalInterface
public interface BatchFunction<K, V> {

    Map<K, V> apply(List<K> keys) throws SQLException;
}
