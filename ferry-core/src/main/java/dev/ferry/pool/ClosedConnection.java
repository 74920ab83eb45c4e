package dev.ferry.pool;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * What a proxy forwards to after {@code close()}: every call fails with "Connection is closed", except the calls
 * JDBC allows on a closed connection. Swapping the delegate costs nothing per call, where a "closed" check in
 * every method would cost a branch on the hot path. Reflection here only runs on misuse.
 */
final class ClosedConnection {

    static final Connection INSTANCE = closed("Connection is closed", null);

    /**
     * A closed connection whose calls fail with {@code message} (SQLState 08003) and {@code cause}: what a proxy
     * forwards to once the pool took its connection back (leak reclaim, hold cap).
     */
    static Connection closed(String message, Throwable cause) {
        return (Connection) Proxy.newProxyInstance(
            ClosedConnection.class.getClassLoader(), new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
                switch (method.getName()) {
                    case "isClosed":
                        return true;
                    case "isValid":
                        return false;
                    case "close":
                    case "abort":
                        return null;
                    case "toString":
                        return "ClosedConnection";
                    case "hashCode":
                        return System.identityHashCode(proxy);
                    case "equals":
                        return proxy == args[0];
                    default:
                        throw new SQLException(message, "08003", cause);
                }
            });
    }

    private ClosedConnection() {
    }
}
