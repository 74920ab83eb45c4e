package dev.ferry;

/**
 * What one user's pool of {@link FerryDataSource#getConnection(String, String)} holds at a moment
 * ({@link FerryDataSource#userPools()}): counts only, so that holding the data source gives no way to borrow a
 * user's connection without that user's password.
 *
 * @param poolName          the pool's name: the data source's, then {@code -user-} and a number
 * @param user              the user its connections log in as
 * @param totalConnections  connections open (idle and lent)
 * @param activeConnections connections lent
 * @param idleConnections   connections idle
 * @param waitingThreads    callers waiting for one
 */
public record UserPool(String poolName, String user, int totalConnections, int activeConnections,
                       int idleConnections, int waitingThreads) {
}
