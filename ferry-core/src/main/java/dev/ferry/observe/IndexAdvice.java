package dev.ferry.observe;

import java.util.List;

/**
 * One index {@link IndexAdvisor} proposes.
 *
 * @param statement   the statement whose plan led to it
 * @param table       the table, schema-qualified
 * @param columns     the index's columns, equality-filtered ones first, then at most one range-filtered one
 * @param createIndex the statement to create it
 * @param reason      what the plan showed: the sequential scan, its filter, the rows it keeps of the table's
 * @param costBefore  the planner's total cost of the statement now
 * @param costAfter   the planner's total cost with the index in place (a hypothetical one, through hypopg), or
 *                    {@code NaN} when hypopg is not installed in the database
 */
public record IndexAdvice(String statement, String table, List<String> columns, String createIndex, String reason,
                          double costBefore, double costAfter) {

    /** Whether the cost with the index is known (hypopg). */
    public boolean hasCostAfter() {
        return !Double.isNaN(costAfter);
    }

    @Override
    public String toString() {
        return createIndex + ";  -- " + reason + "; cost " + String.format(java.util.Locale.ROOT, "%.2f", costBefore)
                + (hasCostAfter() ? String.format(java.util.Locale.ROOT, " -> %.2f with the index (hypopg)", costAfter)
                        : " now (install hypopg for the cost with the index)");
    }
}
