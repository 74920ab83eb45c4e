package dev.ferry.batch;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * Counts the statements an application sends (each execute call is one round trip) and the distinct SQL texts,
 * by wrapping a DataSource's connections and statements. Test-only: uses dynamic proxies.
 */
final class CountingDataSource {

    final AtomicLong executions = new AtomicLong();
    final Set<String> sqlTexts = ConcurrentHashMap.newKeySet();
    final DataSource dataSource;

    CountingDataSource(DataSource target) {
        this.dataSource = proxy(DataSource.class, target, (method, args, result) -> result instanceof Connection
                ? proxy(Connection.class, (Connection) result, this::onConnectionCall) : result);
    }

    private Object onConnectionCall(Method method, Object[] args, Object result) {
        if (result instanceof PreparedStatement && args != null && args[0] instanceof String) {
            sqlTexts.add((String) args[0]);
            return proxy(PreparedStatement.class, (PreparedStatement) result, (m, a, r) -> r);
        }
        return result;
    }

    private interface After {
        Object apply(Method method, Object[] args, Object result) throws Exception;
    }

    @SuppressWarnings("unchecked")
    private <T> T proxy(Class<T> type, T target, After after) {
        InvocationHandler handler = (p, method, args) -> {
            if (method.getName().startsWith("execute")) {
                executions.incrementAndGet();
            }
            Object result;
            try {
                result = method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            return after.apply(method, args, result);
        };
        return (T) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {type}, handler);
    }
}
