package dev.ferry.cli;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.concurrent.atomic.AtomicInteger;

/** A direct connection that lowers the open count when closed (once), so "direct" reports its connections too. */
final class ClosingCounter {

    private ClosingCounter() {
    }

    static Connection wrap(Connection target, AtomicInteger open) {
        boolean[] closed = new boolean[1];
        return (Connection) Proxy.newProxyInstance(ClosingCounter.class.getClassLoader(),
                new Class<?>[] {Connection.class}, (p, method, args) -> {
                    if (method.getName().equals("close") && !closed[0]) {
                        closed[0] = true;
                        open.decrementAndGet();
                    }
                    try {
                        return method.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
