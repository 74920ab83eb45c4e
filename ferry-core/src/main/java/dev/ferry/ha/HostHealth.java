package dev.ferry.ha;

import dev.ferry.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * Which hosts may take work, by PgCat's rules: a replica that fails (a connect, a validation, a health check) is
 * banned for {@code banTime}, then tried again; the primary is never banned (there is nowhere else to write).
 * PgCat also unbans every replica when all are banned, because it may have nowhere else to send reads; here that
 * rule applies only when the primary does not take reads ({@code primaryTakesReads} false). When it does, as in
 * Ferry's read routing, reads go to the primary until a ban ends, instead of each read first waiting on a replica
 * that just failed. Reads go to the usable replica with the least outstanding work, or to the primary when there
 * is none.
 *
 * <p>Time is the injected {@link Ticker}'s (any origin: only differences of its readings are used). Thread-safe: a
 * host's ban (its end and reason together) is one atomic reference, set by {@link #failed} and cleared by the
 * unban-all rule only if it is still the ban that rule saw; a ban expires on read, without a timer.
 *
 * <p>Used by {@link ReadRouter} for {@code FerryDataSource.reads()}.
 */
public final class HostHealth {

    /** A host's role in the cluster. */
    public enum Role { PRIMARY, REPLICA }

    /** One host. */
    public static final class Host {
        private final String name;
        private final Role role;
        /** The present ban, or null; its end is compared by difference with the ticker's reading. */
        private final java.util.concurrent.atomic.AtomicReference<Ban> ban =
                new java.util.concurrent.atomic.AtomicReference<>();

        public Host(String name, Role role) {
            this.name = Objects.requireNonNull(name, "name");
            this.role = Objects.requireNonNull(role, "role");
        }

        public String name() {
            return name;
        }

        public Role role() {
            return role;
        }

        @Override
        public String toString() {
            return name + "(" + role.name().toLowerCase(java.util.Locale.ROOT) + ")";
        }
    }

    private record Ban(long until, String reason) {
    }

    private final List<Host> hosts;
    private final long banNanos;
    private final Ticker ticker;
    private final boolean primaryTakesReads;

    /** With the primary taking reads when no replica can (see the class notes). */
    public HostHealth(List<Host> hosts, Duration banTime, Ticker ticker) {
        this(hosts, banTime, ticker, true);
    }

    public HostHealth(List<Host> hosts, Duration banTime, Ticker ticker, boolean primaryTakesReads) {
        this.hosts = List.copyOf(hosts);
        if (this.hosts.stream().filter(h -> h.role == Role.PRIMARY).count() > 1) {
            throw new IllegalArgumentException("hosts: got more than one primary; allowed: at most one");
        }
        if (banTime == null || banTime.isNegative() || banTime.isZero()) {
            throw new IllegalArgumentException("banTime: got " + banTime + "; allowed: a positive duration");
        }
        this.banNanos = banTime.toNanos();
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.primaryTakesReads = primaryTakesReads && primary() != null;
    }

    /**
     * A host failed: a replica is banned for banTime (from now, also if it was banned already); the primary is
     * not. Returns whether this banned it.
     */
    public boolean failed(Host host, String reason) {
        if (host.role == Role.PRIMARY) {
            return false;
        }
        host.ban.set(new Ban(ticker.read() + banNanos, reason));
        return true;
    }

    /** Whether the host is banned now (the primary never is). */
    public boolean isBanned(Host host) {
        Ban b = host.ban.get();
        return b != null && ticker.read() - b.until() < 0;
    }

    /** Why the host is banned now, or null. */
    public String banReason(Host host) {
        Ban b = host.ban.get();
        return b != null && ticker.read() - b.until() < 0 ? b.reason() : null;
    }

    /**
     * The replicas that may take reads now: those not banned; when every one is banned and the primary does not
     * take reads, all of them.
     */
    public List<Host> usableReplicas() {
        List<Host> replicas = new ArrayList<>();
        List<Ban> seen = new ArrayList<>();
        List<Host> usable = new ArrayList<>();
        long now = ticker.read();
        for (Host h : hosts) {
            if (h.role == Role.REPLICA) {
                Ban b = h.ban.get();
                replicas.add(h);
                seen.add(b);
                if (b == null || now - b.until() >= 0) {
                    usable.add(h);
                }
            }
        }
        if (usable.isEmpty() && !replicas.isEmpty() && !primaryTakesReads) {
            for (int i = 0; i < replicas.size(); i++) {
                replicas.get(i).ban.compareAndSet(seen.get(i), null); // all banned: unban all (PgCat's rule),
            }                                                          // but not a ban set meanwhile
            return replicas;
        }
        return usable;
    }

    /** The primary, or null if none is known. */
    public Host primary() {
        for (Host h : hosts) {
            if (h.role == Role.PRIMARY) {
                return h;
            }
        }
        return null;
    }

    /** Where a read goes: the usable replica with the least {@code outstanding} work, else the primary. */
    public Host forRead(ToIntFunction<Host> outstanding) {
        Host best = null;
        int least = Integer.MAX_VALUE;
        for (Host h : usableReplicas()) {
            int n = outstanding.applyAsInt(h);
            if (n < least) { // ties go to the first listed: a stable order
                least = n;
                best = h;
            }
        }
        return best != null ? best : primary();
    }
}
