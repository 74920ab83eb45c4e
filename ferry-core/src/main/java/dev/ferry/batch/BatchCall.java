package dev.ferry.batch;

import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * A batch function that is told how long it has: the time left until the earliest deadline among the batch's
 * requests. The JDBC helpers bound their pool wait and statement timeout by it.
 */
@FunctionalInterface
interface BatchCall<K, V> {

    Map<K, V> apply(List<K> keys, long remainingNanos) throws SQLException;
}
