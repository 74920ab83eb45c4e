package dev.ferry.observe;

import dev.ferry.FerryPool;
import dev.ferry.capacity.Lane;
import dev.ferry.capacity.LaneBudget;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers a pool's MBeans ({@link PoolMXBean}, one {@link LaneMXBean} per lane) with the platform MBean server,
 * and unregisters them when the pool closes.
 *
 * <h2>Design notes</h2>
 *
 * <p>The beans read the pool's live figures on each call and hold no state of their own. Their setters call the
 * pool's runtime controls, so JMX changes are checked as API changes are: a refused value fails the JMX call with
 * the pool's message.
 *
 * <p>Names: a pool or lane name with a character JMX treats as syntax ({@code , = : " * ? \} or a line break)
 * is quoted ({@link ObjectName#quote}); others are used as they are. As in HikariCP, a second pool with a name
 * already registered still starts: none of its beans are registered (all or nothing), and an ERROR names the
 * bean that was there. Closing it then leaves the first pool's beans alone: a pool unregisters only what it
 * registered, once.
 */
public final class PoolMBeans {

    private static final Logger LOG = LoggerFactory.getLogger(PoolMBeans.class);
    static final String DOMAIN = "dev.ferry";

    private final MBeanServer server;
    /** What this pool registered; swapped for an empty list by the first {@link #unregister}. */
    private final java.util.concurrent.atomic.AtomicReference<List<ObjectName>> registered;

    private PoolMBeans(MBeanServer server, List<ObjectName> registered) {
        this.server = server;
        this.registered = new java.util.concurrent.atomic.AtomicReference<>(List.copyOf(registered));
    }

    /** The name of a pool's bean. */
    public static ObjectName poolName(String poolName) {
        return name("type=Pool,name=" + value(poolName));
    }

    /** The name of a lane's bean. */
    public static ObjectName laneName(String poolName, String lane) {
        return name("type=Lane,pool=" + value(poolName) + ",name=" + value(lane));
    }

    /**
     * Registers the pool's beans, all or none; never throws for JMX reasons (the pool runs without them, logged at
     * ERROR). A runtime without {@code java.management} counts as a JMX reason.
     */
    public static PoolMBeans register(FerryPool pool) {
        List<ObjectName> registered = new ArrayList<>();
        String name = pool.poolName();
        MBeanServer server;
        try {
            server = ManagementFactory.getPlatformMBeanServer();
        } catch (RuntimeException | LinkageError e) {
            LOG.error("{} - registerMbeans: no platform MBean server: {}", name, e.toString());
            return new PoolMBeans(null, List.of());
        }
        boolean all = false;
        try {
            ObjectName poolBean = poolName(name);
            server.registerMBean(new StandardMBean(new PoolBean(pool), PoolMXBean.class, true), poolBean);
            registered.add(poolBean);
            for (LaneBudget.LaneState lane : pool.lanes()) {
                ObjectName laneBean = laneName(name, lane.lane().name());
                server.registerMBean(new StandardMBean(new LaneBean(pool, lane.lane().name()), LaneMXBean.class,
                        true), laneBean);
                registered.add(laneBean);
            }
            all = true;
        } catch (InstanceAlreadyExistsException e) {
            LOG.error("{} - registerMbeans: a bean named {} is registered already (another pool named '{}'?), so "
                    + "none of this pool's MBeans are; give each pool its own poolName", name, e.getMessage(), name);
        } catch (JMException | RuntimeException | LinkageError e) {
            LOG.error("{} - registerMbeans: could not register the pool's MBeans: {}", name, e.toString());
        }
        if (!all) { // all or none: take back what was registered before the failure
            unregister(server, registered);
            registered.clear();
        }
        return new PoolMBeans(server, registered);
    }

    /** Unregisters what {@link #register} registered; the first call does it, later calls nothing. */
    public void unregister() {
        unregister(server, registered.getAndSet(List.of()));
    }

    private static void unregister(MBeanServer server, List<ObjectName> names) {
        for (ObjectName name : names) {
            try {
                server.unregisterMBean(name);
            } catch (JMException | RuntimeException e) {
                LOG.warn("could not unregister {}: {}", name, e.toString());
            }
        }
    }

    private static String value(String s) {
        for (char c : s.toCharArray()) {
            if (",=:\"*?\n\\".indexOf(c) >= 0) {
                return ObjectName.quote(s);
            }
        }
        return s;
    }

    private static ObjectName name(String properties) {
        try {
            return new ObjectName(DOMAIN + ":" + properties);
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalArgumentException("registerMbeans: cannot name a bean " + properties, e);
        }
    }

    private record PoolBean(FerryPool pool) implements PoolMXBean {
        @Override public String getPoolName() { return pool.poolName(); }
        @Override public int getActiveConnections() { return pool.activeConnections(); }
        @Override public int getIdleConnections() { return pool.idleConnections(); }
        @Override public int getTotalConnections() { return pool.totalConnections(); }
        @Override public int getThreadsAwaitingConnection() { return pool.waitingThreads(); }
        @Override public int getMaximumPoolSize() { return pool.maximumPoolSize(); }
        @Override public void setMaximumPoolSize(int n) { pool.setMaximumPoolSize(n); }
        @Override public int getMinimumIdle() { return pool.minimumIdle(); }
        @Override public void setMinimumIdle(int n) { pool.setMinimumIdle(n); }
        @Override public int getReserve() { return pool.reserve(); }
        @Override public void setReserve(int n) { pool.setReserve(n); }
        @Override public long getReserveUses() { return pool.reserveUses(); }
        @Override public int getConnectionCap() { return pool.connectionCap(); }
        @Override public int getSizingTarget() { return pool.sizingTarget(); }
        @Override public long getOldestWaitMillis() { return pool.oldestWait().toMillis(); }
        @Override public boolean isOverloaded() { return pool.isOverloaded(); }
        @Override public boolean isSuspended() { return pool.isSuspended(); }
        @Override public void softEvictConnections() { pool.softEvictConnections(); }
        @Override public void suspendPool() { pool.suspend(); }
        @Override public void resumePool() { pool.resume(); }
    }

    private record LaneBean(FerryPool pool, String name) implements LaneMXBean {
        private LaneBudget.LaneState state() {
            return pool.lanes().stream().filter(l -> l.lane().name().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("lane " + name + " is gone (pool closed?)"));
        }

        private void change(java.util.function.UnaryOperator<Lane> edit) {
            pool.setLane(edit.apply(state().lane()));
        }

        @Override public String getName() { return name; }
        @Override public int getLent() { return state().lent(); }
        @Override public int getWaiting() { return state().waiting(); }
        @Override public int getWaitingAtCap() { return state().waitingAtCap(); }
        @Override public int getMinimum() { return state().lane().minimum(); }
        @Override public void setMinimum(int n) { change(l -> new Lane(l.name(), n, l.cap(), l.weight())); }
        @Override public int getCap() { return state().lane().cap(); }
        @Override public void setCap(int n) { change(l -> new Lane(l.name(), l.minimum(), n, l.weight())); }
        @Override public int getWeight() { return state().lane().weight(); }
        @Override public void setWeight(int n) { change(l -> new Lane(l.name(), l.minimum(), l.cap(), n)); }
    }
}
