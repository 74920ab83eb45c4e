package dev.ferry.pool;

/**
 * 128 bytes laid out ahead of a subclass's fields (a JVM places a superclass's fields first), so that no other
 * object's fields share a cache line, or the line a CPU fetches with it, with the subclass's first fields.
 *
 * <p>Why: pool entries are written by their borrower on every borrow and return. The collector may copy two
 * entries, or an entry and another hot object, next to each other; two cores then pass one cache line back and
 * forth on every borrow, and the pool runs several times slower in some JVM runs than in others. The
 * {@code int} fills the gap a compressed class pointer leaves after the object header, so no subclass field is
 * placed there, in front of the padding.
 */
@SuppressWarnings("unused")
abstract class CacheLinePadding {
    private int p00;
    private long p01, p02, p03, p04, p05, p06, p07, p08;
    private long p09, p10, p11, p12, p13, p14, p15, p16;
}
