package org.wso2.carbon.synthetic;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * API Manager's APIs in its own datasource (api-manager.xml DataSourceName: jdbc/WSO2AM_DB), as the publisher
 * writes them and the store reads them: AM_API rows (API_PROVIDER, API_NAME, API_VERSION, CONTEXT) of the pack's
 * dbscripts/apimgt schema. Two endpoints stand in for the publisher's API creation and the store's listing:
 *   POST /synthetic/apis   form name, version, context (Basic auth: the admin user, the API's provider)
 *                          201 | 400 | 401 | 409 | 503
 *   GET  /synthetic/apis   {"apis": [{provider, name, version, context}, ...]} oldest first   200 | 503
 * The synthetic server knows no Carbon profile (a real pack is started with -Dprofile=api-publisher and so on),
 * so every profile answers both; what proves the sharing is an API created at one profile and listed at another.
 */
final class ApiTable {
    static final String PATH = "/synthetic/apis";
    private static final String CATEGORY = "org.wso2.carbon.apimgt.impl.dao.ApiMgtDAO";
    private final CarbonDataSource ds;
    private final BiPredicate<String, String> admin;

    ApiTable(CarbonDataSource ds, BiPredicate<String, String> admin) {
        this.ds = ds;
        this.admin = admin;
    }

    boolean handle(HttpExchange ex, String path) throws IOException {
        if (!path.equals(PATH)) {
            return false;
        }
        if (!ds.healthy()) {
            JdbcUserStore.send(ex, 503, Map.of("error", "database " + ds.name + " is unreachable: " + ds.lastError()));
            return true;
        }
        try {
            if (ex.getRequestMethod().equals("GET")) {
                JdbcUserStore.send(ex, 200, Map.of("apis", list()));
            } else if (ex.getRequestMethod().equals("POST")) {
                String provider = JdbcUserStore.authorisedUser(ex, admin);
                if (provider == null) {
                    ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"WSO2 Carbon\"");
                    JdbcUserStore.send(ex, 401, Map.of("error", "the admin user's credentials are required (Basic auth)"));
                    return true;
                }
                Map<String, String> form = JdbcUserStore.form(ex);
                String name = form.getOrDefault("name", "");
                String version = form.getOrDefault("version", "");
                String context = form.getOrDefault("context", "");
                if (name.isEmpty() || version.isEmpty() || !context.startsWith("/")) {
                    JdbcUserStore.send(ex, 400, Map.of("error", "name, version and a context starting with / are required"));
                    return true;
                }
                if (!add(provider, name, version, context)) {
                    JdbcUserStore.send(ex, 409, Map.of("error", "API " + name + ":" + version + " of " + provider
                            + " already exists"));
                    return true;
                }
                CarbonLog.info(CATEGORY, "API " + name + ":" + version + " (" + context + ") of " + provider
                        + " added to " + ds.name);
                JdbcUserStore.send(ex, 201, Map.of("provider", provider, "name", name, "version", version,
                        "context", context));
            } else {
                JdbcUserStore.send(ex, 405, Map.of("error", "POST or GET " + PATH));
            }
        } catch (SQLException e) {
            JdbcUserStore.send(ex, 503, Map.of("error", "database " + ds.name + ": " + e.getMessage()));
        }
        return true;
    }

    /** False when the provider already has the API in that version (AM_API's unique key). */
    private boolean add(String provider, String name, String version, String context) throws SQLException {
        try (Connection c = ds.connect()) {
            try (PreparedStatement exists = c.prepareStatement(
                    "SELECT API_ID FROM AM_API WHERE API_PROVIDER = ? AND API_NAME = ? AND API_VERSION = ?")) {
                exists.setString(1, provider);
                exists.setString(2, name);
                exists.setString(3, version);
                try (ResultSet r = exists.executeQuery()) {
                    if (r.next()) {
                        return false;
                    }
                }
            }
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO AM_API (API_PROVIDER, API_NAME, API_VERSION, CONTEXT, CONTEXT_TEMPLATE, CREATED_BY, "
                            + "CREATED_TIME) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                s.setString(1, provider);
                s.setString(2, name);
                s.setString(3, version);
                s.setString(4, context + "/" + version);  // the publisher stores the versioned context
                s.setString(5, context + "/{version}");
                s.setString(6, provider);
                s.setTimestamp(7, new Timestamp(System.currentTimeMillis()));
                s.executeUpdate();
            }
            if (!c.getAutoCommit()) {
                c.commit();
            }
            return true;
        }
    }

    private List<Map<String, Object>> list() throws SQLException {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Connection c = ds.connect(); PreparedStatement s = c.prepareStatement(
                "SELECT API_PROVIDER, API_NAME, API_VERSION, CONTEXT FROM AM_API ORDER BY API_ID");
             ResultSet r = s.executeQuery()) {
            while (r.next()) {
                Map<String, Object> api = new LinkedHashMap<>();
                api.put("provider", r.getString(1));
                api.put("name", r.getString(2));
                api.put("version", r.getString(3));
                api.put("context", r.getString(4));
                out.add(api);
            }
        }
        return out;
    }
}
