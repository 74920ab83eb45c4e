package dev.ferry.observe;

/**
 * One lane of a pool over JMX, registered as {@code dev.ferry:type=Lane,pool=<poolName>,name=<lane>} when
 * {@code registerMbeans} is set: its use now, and its settings, which may be changed at run time (a change the
 * pool refuses, such as minimums above the budget, fails with the reason).
 */
public interface LaneMXBean {

    String getName();

    /** Connections lent now to the lane's callers. */
    int getLent();

    /** The lane's callers waiting in the pool for a connection. */
    int getWaiting();

    /** The lane's callers waiting at its cap. */
    int getWaitingAtCap();

    int getMinimum();

    void setMinimum(int minimum);

    int getCap();

    void setCap(int cap);

    int getWeight();

    void setWeight(int weight);
}
