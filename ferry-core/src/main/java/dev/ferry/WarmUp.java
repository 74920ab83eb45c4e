package dev.ferry;

import java.sql.SQLException;
import java.time.Duration;

/**
 * What a warm-up did ({@link FerryDataSource#warmUp(int, Duration)}): how many connections it aimed for, how many
 * were open when it returned (idle or lent, opened by it or already there), how long it took, and the last
 * connection error it met (null if none).
 *
 * @param target    the connections asked for
 * @param open      connections open when it returned
 * @param took      how long it ran
 * @param lastError the last failure to connect during the warm-up, or null
 */
public record WarmUp(int target, int open, Duration took, SQLException lastError) {

    /** Whether the target was reached. */
    public boolean complete() {
        return open >= target;
    }
}
