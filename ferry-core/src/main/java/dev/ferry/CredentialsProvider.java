package dev.ferry;

import java.sql.SQLException;
import java.time.Instant;

/**
 * Credentials asked for every new physical connection ({@code FerryConfig.Builder.credentialsProvider}): for
 * secrets that rotate and tokens that expire (AWS RDS IAM, Azure AD, Vault), as HikariCP 7's
 * {@code HikariCredentialsProvider} is.
 *
 * <p>Called on the thread that opens the connection (a connector; the first caller of a data source started
 * lazily; the caller of {@code warmUp}), never under a lock of the pool's or the data source's, once per connection attempt; it may block (fetch a token) but should return well within
 * connectionTimeout. What it throws fails that attempt as a connection failure (SQLState 08001 unless it throws an
 * {@link SQLException} of its own), retried with the pool's back-off; keep secrets out of its messages, which are
 * logged.
 *
 * <p>Credentials with an expiry are never used after it: if the provider hands out expired ones (or ones with less
 * than a second left), it is asked once more, and if those are expired too the attempt fails (SQLState 28000)
 * without connecting. An expiry more than a century away counts as none. A connection
 * opened with them is retired before they expire (a tenth of the time left early, at most 30 s, jittered; as
 * maxLifetime retires it: not lent after, closed when returned or idle), for servers that end sessions when their
 * token does.
 */
@FunctionalInterface
public interface CredentialsProvider {

    /** The credentials for the next connection. */
    Credentials credentials() throws SQLException;

    /**
     * A username (null: the configured username) and password (null: none), and when they stop being accepted
     * (null: never). {@code toString} masks the password.
     */
    record Credentials(String username, String password, Instant expiresAt) {

        /** Credentials that do not expire. */
        public static Credentials of(String username, String password) {
            return new Credentials(username, password, null);
        }

        @Override
        public String toString() {
            return "Credentials{username=" + username + ", password=" + (password == null ? "null" : Secrets.MASK)
                    + ", expiresAt=" + expiresAt + "}";
        }
    }
}
