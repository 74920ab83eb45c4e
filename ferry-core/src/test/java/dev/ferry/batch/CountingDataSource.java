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
    /** The SQL texts of prepared statements that were executed (not only prepared or described). */
    final Set<String> executedTexts = ConcurrentHashMap.newKeySet();
    final DataSource dataSource;

    CountingDataSource(DataSource target) {
        this.dataSource = proxy(DataSource.class, target, (method, args, result) -> result instanceof Connection
                ? proxy(Connection.class, (Connection) result, this::onConnectionCall) : result);
    }

    private Object onConnectionCall(Method method, Object[] args, Object result) {
        if (result instanceof PreparedStatement && args != null && args[0] instanceof String) {
            String sql = (String) args[0];
            sqlTexts.add(sql);
            PreparedStatement target = (PreparedStatement) result;
            return proxy(PreparedStatement.class, (PreparedStatement) Proxy.newProxyInstance(
                    getClass().getClassLoader(), new Class<?>[] {PreparedStatement.class}, (p, m, a) -> {
                        if (m.getName().startsWith("execute")) {
                            executedTexts.add(sql); // before the call: a statement that fails was sent too
                        }
                        try {
                            return m.invoke(target, a);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    }), (m, a, r) -> r);
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
