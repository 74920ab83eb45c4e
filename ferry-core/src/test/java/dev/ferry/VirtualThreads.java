package dev.ferry;

import java.util.concurrent.ThreadFactory;

/** Virtual threads where the JDK has them (21+), found reflectively because the code is compiled for 17. */
final class VirtualThreads {

    private VirtualThreads() {
    }

    /** A factory of virtual threads, or null on JDKs without them. */
    static ThreadFactory factory() {
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            // Look the method up on the public interface: the builder's own class is not accessible.
            return (ThreadFactory) Class.forName("java.lang.Thread$Builder").getMethod("factory").invoke(builder);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }
}
