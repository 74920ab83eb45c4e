package dev.ferry.batch;

import dev.ferry.Priority;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * A batch function that is told how long it has: the time left until the earliest deadline among the batch's
 * requests, and at what priority it runs (CRITICAL for a critical request sent alone). The JDBC helpers bound
 * their pool wait and statement timeout by the time, and borrow at the priority.
 */
@FunctionalInterface
interface BatchCall<K, V> {

    Map<K, V> apply(List<K> keys, long remainingNanos, Priority priority) throws SQLException;
}
