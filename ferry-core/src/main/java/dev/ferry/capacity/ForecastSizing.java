package dev.ferry.capacity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;

/**
 * Learns when the pool is busy, per hour of the week, and opens connections ahead of the expected peak.
 *
 * <h2>Design notes</h2>
 *
 * <p><b>What it learns.</b> One number per hour of the week (168, Monday 00:00 first, in the pool clock's zone):
 * a decayed peak of demand (connections lent plus callers waiting). During an hour the policy keeps the highest
 * demand it sees at its sizing periods ({@link PoolLoad#peakDemand}: what is lent and waiting at that instant, or
 * the connections used during the period plus the callers waiting, whichever is more); when the hour ends, that hour's number becomes
 * {@code max(peak seen, decay * previous number)}. So one busy Saturday is remembered at once, and a peak
 * that stops recurring fades by {@code decay} a week (default 0.75: below half after three weeks).
 * Hours the pool did not run keep their number.
 *
 * <p><b>What it asks for.</b> At time {@code t} the target is the highest learned number of the hour
 * containing {@code t} and of the hour containing {@code t + lead}: connections are opened a lead time before
 * an hour expected to be busy, and kept through it. Nothing is learned yet: target 0. After the peak, the
 * connections stay until idleTimeout retires them, or, with {@code retireIdleAfter}, once idle that long.
 *
 * <p><b>History.</b> With a history file, the numbers are read when the policy is built (a missing file is an
 * empty history) and written after each hour ends, outside the policy's lock, to a temporary file of its own
 * (unique per write) moved into place, so a crash or another writer leaves one whole history, never half of
 * one. A write that fails is logged and retried at the next hour; a file that cannot be read fails the build,
 * naming the file and the line. The hour in progress when the pool closes is not saved. The numbers are
 * guarded by the policy's monitor, held for a few instructions (nothing blocks under it).
 */
public final class ForecastSizing implements SizingPolicy {

    static final int HOURS = 168;
    private static final String HEADER = "# ferry forecast v1: hour-of-week (0 = Monday 00:00) and decayed peak demand";
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ForecastSizing.class);

    private final double[] learned = new double[HOURS];
    private final double decay;
    private final Duration lead;
    private final Path historyFile;
    private final Duration retireIdleAfter;
    private int hour = -1;
    private int peakThisHour;

    private ForecastSizing(Builder b) {
        this.decay = b.decay;
        this.lead = b.lead;
        this.historyFile = b.historyFile;
        this.retireIdleAfter = b.retireIdleAfter;
        if (historyFile != null && Files.exists(historyFile)) {
            load(historyFile, learned);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    static int hourOfWeek(ZonedDateTime t) {
        return (t.getDayOfWeek().getValue() - 1) * 24 + t.getHour();
    }

    @Override
    public int target(PoolLoad load) {
        double[] toSave;
        int target;
        synchronized (this) {
            toSave = observe(load);
            target = forecastAt(load.wallTime());
        }
        if (toSave != null) {
            save(toSave); // outside the lock: callers of forecastAt() never wait on the disk
        }
        return target;
    }

    /** Records the load's demand; when an hour has ended, learns it and returns the numbers to save, else null. */
    private double[] observe(PoolLoad load) {
        double[] toSave = null;
        int h = hourOfWeek(load.wallTime());
        if (h != hour) {
            if (hour >= 0) {
                learned[hour] = Math.max(peakThisHour, decay * learned[hour]);
                toSave = learned.clone();
            }
            hour = h;
            peakThisHour = 0;
        }
        peakThisHour = Math.max(peakThisHour, load.peakDemand());
        return toSave;
    }

    @Override
    public Duration retireIdleAfter() {
        return retireIdleAfter;
    }

    /** The connections expected to be needed from {@code t} to {@code t + lead}, from what was learned. */
    public synchronized int forecastAt(ZonedDateTime t) {
        double peak = Math.max(learned[hourOfWeek(t)], learned[hourOfWeek(t.plus(lead))]);
        return (int) Math.ceil(peak - 1e-9);
    }

    /** A copy of the learned numbers, Monday 00:00 first. */
    public synchronized double[] learned() {
        return learned.clone();
    }

    private void save(double[] numbers) {
        if (historyFile == null) {
            return;
        }
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        for (int h = 0; h < HOURS; h++) {
            text.append(h).append(' ').append(numbers[h]).append('\n');
        }
        Path tmp = null;
        try {
            Path dir = historyFile.toAbsolutePath().getParent();
            tmp = Files.createTempFile(dir, historyFile.getFileName().toString(), ".tmp"); // unique per writer
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, historyFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            LOG.warn("forecast sizing: could not write history to {} (retried next hour): {}", historyFile, e.toString());
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: a stray temporary file is harmless
                }
            }
        }
    }

    private static void load(Path file, double[] into) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("forecast historyFile: could not read " + file, e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\s+");
            try {
                int h = Integer.parseInt(parts[0]);
                double v = Double.parseDouble(parts[1]);
                if (parts.length != 2 || h < 0 || h >= HOURS || !(v >= 0) || Double.isInfinite(v)) {
                    throw new NumberFormatException();
                }
                into[h] = v;
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("forecast historyFile: " + file + " line " + (i + 1) + ": got '"
                        + line + "'; allowed: '<hour 0-167> <demand 0 or more>'");
            }
        }
    }

    @Override
    public String toString() {
        return "forecast(lead=" + lead + ", decay=" + decay + (historyFile == null ? "" : ", history=" + historyFile) + ")";
    }

    /** Settings, each checked when set. */
    public static final class Builder {
        private double decay = 0.75;
        private Duration lead = Duration.ofMinutes(30);
        private Path historyFile;
        private Duration retireIdleAfter;

        private Builder() {
        }

        /**
         * After an expected peak, idle connections above the target (and minimumIdle) are retired once idle this
         * long. Default none: idleTimeout retires them, as any idle connection.
         */
        public Builder retireIdleAfter(Duration idle) {
            this.retireIdleAfter = PolicySettings.positive("forecast retireIdleAfter", idle);
            return this;
        }

        /** How much of an hour's number survives a week in which that hour was quieter. Default 0.75. */
        public Builder decay(double decay) {
            if (!(decay >= 0 && decay <= 1)) {
                throw new IllegalArgumentException("forecast decay: got " + decay + "; allowed: 0 to 1");
            }
            this.decay = decay;
            return this;
        }

        /** How far ahead connections are opened. Default 30 minutes. */
        public Builder lead(Duration lead) {
            this.lead = PolicySettings.lead("forecast lead", lead);
            return this;
        }

        /** Where the learned numbers are kept across restarts; read at build, written hourly. Default none. */
        public Builder historyFile(Path file) {
            this.historyFile = file;
            return this;
        }

        public ForecastSizing build() {
            return new ForecastSizing(this);
        }
    }
}
