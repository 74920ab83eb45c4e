package dev.ferry;

/**
 * A properties key that is neither a Ferry nor a HikariCP setting ({@link FerryConfig.Builder#properties}). Apart
 * from other {@link IllegalArgumentException}s (a known setting with a bad value) so that a caller migrating
 * HikariCP keys, such as the Spring Boot starter, can report unknown keys as ignored and still fail on bad values.
 */
public final class UnknownSettingException extends IllegalArgumentException {

    private final String key;

    public UnknownSettingException(String key, String message) {
        super(message);
        this.key = key;
    }

    /** The key as given. */
    public String key() {
        return key;
    }
}
