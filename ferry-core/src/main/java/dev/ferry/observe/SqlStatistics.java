package dev.ferry.observe;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-statement figures a pool keeps when {@code sqlStatistics} (or a slowStatementThreshold) is set: for each
 * fingerprint ({@link SqlFingerprint}), calls, errors, rows, total, p95 and max time. Read them with
 * {@link #snapshot()} or {@link #topSlowest(int)}.
 *
 * <p>Bounded: about {@code maxFingerprints} fingerprints are kept (statements first seen at the same moment may
 * pass the bound by a few), then new ones count under {@code (other)}; at most four times as many distinct SQL
 * texts of up to 4,096 characters are remembered, to skip fingerprinting them again (others are fingerprinted
 * at each prepare or execute). Those texts hold the statements' literals, in memory only: they are never shown.
 * Recording is lock-free (striped adders, for the histogram's buckets too), on the executing thread.
 */
public final class SqlStatistics {

    /** The default bound on fingerprints. */
    public static final int DEFAULT_MAX_FINGERPRINTS = 1_000;
    static final String OTHER = "(other)";

    /** Longest SQL text remembered (see the class notes). */
    private static final int MAX_REMEMBERED_CHARS = 4_096;

    private final int maxFingerprints;
    private final boolean mysqlStrings;
    private final ConcurrentHashMap<String, Statement> byFingerprint = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Statement> bySql = new ConcurrentHashMap<>();
    private final Statement other = new Statement(OTHER);

    public SqlStatistics(int maxFingerprints) {
        this(maxFingerprints, false);
    }

    /** With {@code mysqlStrings}, statements are fingerprinted as MySQL reads them ({@link SqlFingerprint#ofMySql}). */
    public SqlStatistics(int maxFingerprints, boolean mysqlStrings) {
        if (maxFingerprints < 1) {
            throw new IllegalArgumentException("maxFingerprints: got " + maxFingerprints + "; allowed: 1 or more");
        }
        this.maxFingerprints = maxFingerprints;
        this.mysqlStrings = mysqlStrings;
    }

    /** Where executions of {@code sql} are counted (looked up once per prepared statement, or per execute). */
    public Statement statement(String sql) {
        Statement s = bySql.get(sql);
        if (s != null) {
            return s;
        }
        String fingerprint = mysqlStrings ? SqlFingerprint.ofMySql(sql) : SqlFingerprint.of(sql);
        s = byFingerprint.get(fingerprint);
        if (s == null) {
            s = byFingerprint.size() >= maxFingerprints ? other
                    : byFingerprint.computeIfAbsent(fingerprint, Statement::new);
        }
        if (sql.length() <= MAX_REMEMBERED_CHARS && bySql.size() < 4 * maxFingerprints) {
            bySql.putIfAbsent(sql, s);
        }
        return s;
    }

    /** The counters of a fingerprint (as {@link StatementStats#fingerprint()} gives it), if it is known. */
    public java.util.Optional<Statement> find(String fingerprint) {
        return OTHER.equals(fingerprint) ? java.util.Optional.of(other)
                : java.util.Optional.ofNullable(byFingerprint.get(fingerprint));
    }

    /** The figures of every fingerprint that ran since the start or the last reset, {@code (other)} last. */
    public List<StatementStats> snapshot() {
        List<StatementStats> all = new ArrayList<>();
        for (Statement s : byFingerprint.values()) {
            if (s.calls.sum() > 0) {
                all.add(s.stats());
            }
        }
        if (other.calls.sum() > 0) {
            all.add(other.stats());
        }
        return all;
    }

    /** The {@code n} fingerprints with the longest mean time, longest first. */
    public List<StatementStats> topSlowest(int n) {
        List<StatementStats> all = snapshot();
        all.removeIf(s -> s.calls() == 0);
        all.sort(Comparator.comparing(StatementStats::mean).reversed());
        return all.subList(0, Math.min(n, all.size()));
    }

    /**
     * Zeroes every figure. The fingerprints stay known (and count toward the bound): statements prepared earlier
     * keep counting into them, so nothing recorded after the reset is lost. A statement running during the reset
     * may be counted partly before it and partly after.
     */
    public void reset() {
        for (Statement s : byFingerprint.values()) {
            s.clear();
        }
        other.clear();
    }

    /** One fingerprint's counters. */
    public static final class Statement {
        /** Four buckets per doubling, from 1 µs: bucket 4 + 4 * (h - 2) + s holds [(4 + s) << (h - 2), (5 + s) << (h - 2)) µs. */
        private static final int BUCKETS = 164;

        private final String fingerprint;
        private final LongAdder calls = new LongAdder();
        private final LongAdder errors = new LongAdder();
        private final LongAdder rows = new LongAdder();
        private final LongAdder nanos = new LongAdder();
        private final AtomicLong max = new AtomicLong();
        /**
         * Counts per bucket, each made at its first use (a statement's times fall in a few buckets) and striped
         * ({@link LongAdder}), so threads running the same statement do not contend on one counter.
         */
        private final AtomicReferenceArray<LongAdder> histogram = new AtomicReferenceArray<>(BUCKETS);

        Statement(String fingerprint) {
            this.fingerprint = fingerprint;
        }

        public String fingerprint() {
            return fingerprint;
        }

        /** One execution: its time, rows changed (0 for a query: its rows are added as they are read), failed. */
        public void record(long elapsedNanos, long rowsChanged, boolean failed) {
            calls.increment();
            nanos.add(elapsedNanos);
            if (failed) {
                errors.increment();
            }
            if (rowsChanged > 0) {
                rows.add(rowsChanged);
            }
            if (elapsedNanos > max.get()) {
                max.accumulateAndGet(elapsedNanos, Math::max);
            }
            int b = bucket(elapsedNanos);
            LongAdder count = histogram.get(b);
            if (count == null) {
                histogram.compareAndSet(b, null, new LongAdder());
                count = histogram.get(b);
            }
            count.increment();
        }

        /** A row read from one of its result sets. */
        public void rowRead() {
            rows.increment();
        }

        static int bucket(long nanos) {
            long micros = Math.max(1, nanos / 1_000);
            if (micros < 4) {
                return (int) micros - 1;
            }
            int h = 63 - Long.numberOfLeadingZeros(micros);
            int s = (int) ((micros >>> (h - 2)) & 3);
            return Math.min(BUCKETS - 1, 4 + 4 * (h - 2) + s);
        }

        /** The upper bound of a bucket, in nanoseconds. */
        static long upperNanos(int bucket) {
            if (bucket < 3) {
                return (bucket + 2) * 1_000L;
            }
            int h = (bucket - 4) / 4 + 2;
            int s = (bucket - 4) % 4;
            return ((5L + s) << (h - 2)) * 1_000L;
        }

        private void clear() {
            calls.reset();
            errors.reset();
            rows.reset();
            nanos.reset();
            max.set(0);
            for (int i = 0; i < BUCKETS; i++) {
                histogram.set(i, null);
            }
        }

        /** This fingerprint's figures now. */
        public StatementStats stats() {
            long[] counts = new long[BUCKETS];
            long total = 0;
            for (int i = 0; i < BUCKETS; i++) {
                LongAdder count = histogram.get(i);
                counts[i] = count == null ? 0 : count.sum();
                total += counts[i];
            }
            long maxNanos = max.get();
            long p95 = 0;
            long target = (long) Math.ceil(total * 0.95);
            long seen = 0;
            for (int i = 0; i < BUCKETS && total > 0; i++) {
                seen += counts[i];
                if (seen >= target) {
                    p95 = Math.min(upperNanos(i), maxNanos);
                    break;
                }
            }
            return new StatementStats(fingerprint, calls.sum(), errors.sum(), rows.sum(), Duration.ofNanos(nanos.sum()),
                    Duration.ofNanos(p95), Duration.ofNanos(maxNanos));
        }
    }
}
