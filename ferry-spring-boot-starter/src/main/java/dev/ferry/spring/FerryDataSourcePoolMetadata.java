package dev.ferry.spring;

import dev.ferry.FerryDataSource;
import dev.ferry.FerryPool;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.boot.jdbc.DataSourceUnwrapper;
import org.springframework.boot.jdbc.metadata.AbstractDataSourcePoolMetadata;
import org.springframework.boot.jdbc.metadata.DataSourcePoolMetadata;

/**
 * Ferry's figures for Boot's pool metadata ({@code jdbc.connections.active}, {@code .idle}, {@code .max},
 * {@code .min}, and the validation query of the {@code db} health check). Reading them never starts a pool that
 * has not started.
 */
final class FerryDataSourcePoolMetadata extends AbstractDataSourcePoolMetadata<FerryDataSource> {

    FerryDataSourcePoolMetadata(FerryDataSource dataSource) {
        super(dataSource);
    }

    /** The metadata of a Ferry data source (also behind a JDBC wrapper or a lane view), or null. */
    static DataSourcePoolMetadata of(DataSource dataSource) {
        FerryDataSource ferry = DataSourceUnwrapper.unwrap(dataSource, FerryDataSource.class);
        if (ferry == null) {
            try { // DataSourceUnwrapper asks JDBC's unwrap only for interfaces; FerryDataSource is a class
                if (dataSource.isWrapperFor(FerryDataSource.class)) {
                    ferry = dataSource.unwrap(FerryDataSource.class);
                }
            } catch (SQLException notOurs) {
                return null;
            }
        }
        return ferry == null ? null : new FerryDataSourcePoolMetadata(ferry);
    }

    private FerryPool pool() {
        FerryDataSource ds = getDataSource();
        if (!ds.isRunning()) {
            return null;
        }
        try {
            return ds.unwrap(FerryPool.class);
        } catch (SQLException e) {
            return null;
        }
    }

    @Override
    public Integer getActive() {
        FerryPool p = pool();
        return p == null ? 0 : p.activeConnections();
    }

    @Override
    public Integer getIdle() {
        FerryPool p = pool();
        return p == null ? 0 : p.idleConnections();
    }

    @Override
    public Integer getMax() {
        return getDataSource().getMaximumPoolSize();
    }

    @Override
    public Integer getMin() {
        return getDataSource().getMinimumIdle();
    }

    @Override
    public String getValidationQuery() {
        return getDataSource().getConnectionTestQuery();
    }

    @Override
    public Boolean getDefaultAutoCommit() {
        return getDataSource().isAutoCommit();
    }
}
