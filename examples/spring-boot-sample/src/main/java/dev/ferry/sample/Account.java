package dev.ferry.sample;

/** One account row. */
public record Account(long id, String owner, long balance) {
}
