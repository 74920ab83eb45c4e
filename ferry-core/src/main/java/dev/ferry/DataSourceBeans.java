package dev.ferry;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import javax.sql.DataSource;

/**
 * Makes a {@link DataSource} from its class name and sets {@code dataSourceProperties} on it as JavaBean
 * properties, as HikariCP does for {@code dataSourceClassName}: {@code serverName=db} calls
 * {@code setServerName("db")}. String values are converted to the setter's type (int, long, boolean, and their
 * boxes); other values are passed as they are when the setter takes their type.
 */
final class DataSourceBeans {

    private DataSourceBeans() {
    }

    static DataSource create(String className, Properties properties) {
        Class<?> type = ConfigResolver.loadClass(className);
        if (type == null) {
            throw new IllegalArgumentException("dataSourceClassName: class '" + className
                    + "' is not on the classpath; allowed: the class name of a javax.sql.DataSource");
        }
        if (!DataSource.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException("dataSourceClassName: class '" + className
                    + "' does not implement javax.sql.DataSource");
        }
        DataSource ds;
        try {
            ds = (DataSource) type.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalArgumentException("dataSourceClassName: could not instantiate '" + className
                    + "': " + e, e);
        }
        for (Map.Entry<Object, Object> e : properties.entrySet()) {
            setProperty(ds, String.valueOf(e.getKey()), e.getValue());
        }
        return ds;
    }

    private static void setProperty(Object target, String name, Object value) {
        String setter = "set" + name.substring(0, 1).toUpperCase(Locale.ROOT) + name.substring(1);
        String shown = Secrets.shown(name, value);
        for (Method m : target.getClass().getMethods()) {
            // Case-insensitive, as HikariCP's: dataSource.url finds PGSimpleDataSource.setURL.
            if (!m.getName().equalsIgnoreCase(setter) || m.getParameterCount() != 1
                    || Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            Object converted = convert(value, m.getParameterTypes()[0]);
            if (converted == null && value != null) {
                continue; // try an overload that takes this type
            }
            try {
                m.invoke(target, converted);
                return;
            } catch (ReflectiveOperationException | RuntimeException e) {
                // The driver's message may quote the value (pgjdbc: "URL invalid <url>"): pass on its text with
                // secrets masked, and not the exception itself.
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                String why = Secrets.isSecretKey(name) ? cause.getClass().getName()
                        : cause.getClass().getName() + ": " + Secrets.maskUrl(String.valueOf(cause.getMessage()));
                throw new IllegalArgumentException("dataSourceProperties: " + target.getClass().getName() + "."
                        + setter + "(" + shown + ") failed: " + why);
            }
        }
        throw new IllegalArgumentException("dataSourceProperties: " + target.getClass().getName()
                + " has no property '" + name + "' that takes " + shown + " (no public " + setter + " method)");
    }

    private static Object convert(Object value, Class<?> type) {
        if (value == null) {
            return null;
        }
        if (type.isInstance(value) || (type.isPrimitive() && boxOf(type).isInstance(value))) {
            return value;
        }
        if (!(value instanceof String)) {
            return null;
        }
        String s = ((String) value).trim();
        try {
            if (type == int.class || type == Integer.class) {
                return Integer.valueOf(s);
            }
            if (type == long.class || type == Long.class) {
                return Long.valueOf(s);
            }
            if (type == short.class || type == Short.class) {
                return Short.valueOf(s);
            }
            if (type == boolean.class || type == Boolean.class) {
                return Boolean.valueOf(s);
            }
            if (type == double.class || type == Double.class) {
                return Double.valueOf(s);
            }
        } catch (NumberFormatException e) {
            return null;
        }
        if (type == char[].class) {
            return s.toCharArray();
        }
        return null;
    }

    private static Class<?> boxOf(Class<?> primitive) {
        if (primitive == int.class) {
            return Integer.class;
        }
        if (primitive == long.class) {
            return Long.class;
        }
        if (primitive == boolean.class) {
            return Boolean.class;
        }
        if (primitive == short.class) {
            return Short.class;
        }
        if (primitive == double.class) {
            return Double.class;
        }
        return primitive;
    }
}
