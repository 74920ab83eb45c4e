package dev.ferry.pool;

/**
 * 128 bytes laid out ahead of a subclass's fields (a JVM places a superclass's fields first), so that no other
 * object's fields share a cache line, or the line a CPU fetches with it, with the subclass's first fields.
 *
 * <p>Why: pool entries are written by their borrower on every borrow and return, and the collector may place
 * them next to other objects that other threads write. Measured, not reasoned: with lanes configured, JMH
 * ConnectionCycle with 32 threads on a pool of 8 (2 cores, JDK 17), with the lane path in its present small
 * methods, ran at 13,100–17,200 ops/ms in all 15 JVM forks we ran with this padding, and at 3,700–5,000 in 2
 * of 6 forks without it (README, Performance). We have not pinned down which neighbouring object it was.
 *
 * <p>The {@code int} fills the gap a compressed class pointer leaves after the object header, so no subclass
 * field is placed there, in front of the padding.
 */
@SuppressWarnings("unused")
abstract class CacheLinePadding {
    private int p00;
    private long p01, p02, p03, p04, p05, p06, p07, p08;
    private long p09, p10, p11, p12, p13, p14, p15, p16;
}
