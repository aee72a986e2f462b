package org.wso2.carbon.synthetic;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * The user store and the registry root in the shared database, through the realm's datasource, as Carbon's
 * JDBCUserStoreManager keeps them: UM_USER rows (tenant -1234), the password as base64(SHA-256(password + salt)).
 * A small admin endpoint stands in for the console's user-add action and RemoteUserStoreManagerService:
 *   POST /synthetic/users           form username, password (Basic auth: the admin user)  201 | 409 | 503
 *   GET  /synthetic/users/{name}    200 when the user exists, 404 when not, 503 when the database is down
 */
final class JdbcUserStore {
    static final String PREFIX = "/synthetic/users";
    private static final String CATEGORY = "org.wso2.carbon.user.core.jdbc.JDBCUserStoreManager";
    private static final int TENANT = -1234;  // carbon.super
    private final CarbonDataSource ds;
    private final BiPredicate<String, String> admin;
    private final SecureRandom random = new SecureRandom();

    JdbcUserStore(CarbonDataSource ds, BiPredicate<String, String> admin) {
        this.ds = ds;
        this.admin = admin;
    }

    /**
     * The registry's root collection, made once for the whole cluster: like Carbon's registry, under the
     * REG_CLUSTER_LOCK row, so two members starting together do not both create it. Skipped (logged) when the
     * database is down: the watcher reports it, and the next start retries.
     */
    static void initRegistry(CarbonDataSource ds) {
        try (Connection c = ds.connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement lock = c.prepareStatement(
                    "INSERT INTO REG_CLUSTER_LOCK (REG_LOCK_NAME, REG_LOCK_STATUS, REG_TENANT_ID) VALUES (?, ?, 0)")) {
                lock.setString(1, "DATABASE_LOCK");
                lock.setString(2, "UNLOCKED");
                lock.executeUpdate();
                c.commit();
            } catch (SQLException exists) {
                c.rollback();  // another member made it
            }
            try (PreparedStatement lock = c.prepareStatement(
                    "SELECT REG_LOCK_STATUS FROM REG_CLUSTER_LOCK WHERE REG_LOCK_NAME = ? FOR UPDATE");
                 PreparedStatement root = c.prepareStatement(
                    "SELECT COUNT(*) FROM REG_PATH WHERE REG_PATH_VALUE = '/' AND REG_TENANT_ID = ?");
                 PreparedStatement add = c.prepareStatement(
                    "INSERT INTO REG_PATH (REG_PATH_VALUE, REG_PATH_PARENT_ID, REG_TENANT_ID) VALUES ('/', -1, ?)")) {
                lock.setString(1, "DATABASE_LOCK");
                lock.executeQuery().close();
                root.setInt(1, TENANT);
                int count;
                try (ResultSet r = root.executeQuery()) {
                    r.next();
                    count = r.getInt(1);
                }
                if (count == 0) {
                    add.setInt(1, TENANT);
                    add.executeUpdate();
                    CarbonLog.info("org.wso2.carbon.registry.core.jdbc.EmbeddedRegistryService",
                            "Created the registry root collection in " + ds.name);
                } else {
                    CarbonLog.info("org.wso2.carbon.registry.core.jdbc.EmbeddedRegistryService",
                            "Using the registry in " + ds.name + " (root collection present)");
                }
                c.commit();
            }
        } catch (SQLException e) {
            CarbonLog.error("org.wso2.carbon.registry.core.jdbc.EmbeddedRegistryService",
                    "Cannot initialise the registry in " + ds.name + ": " + e.getMessage());
        }
    }

    boolean handle(HttpExchange ex, String path) throws IOException {
        if (!path.equals(PREFIX) && !path.startsWith(PREFIX + "/")) {
            return false;
        }
        if (!ds.healthy()) {
            send(ex, 503, Map.of("error", "database " + ds.name + " is unreachable: " + ds.lastError()));
            return true;
        }
        try {
            if (path.equals(PREFIX) && ex.getRequestMethod().equals("POST")) {
                if (!authorised(ex)) {
                    ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"WSO2 Carbon\"");
                    send(ex, 401, Map.of("error", "the admin user's credentials are required (Basic auth)"));
                    return true;
                }
                Map<String, String> form = form(ex);
                String user = form.get("username");
                String password = form.get("password");
                if (user == null || user.isEmpty() || password == null || password.length() < 5) {
                    send(ex, 400, Map.of("error", "username and a password of 5+ characters are required"));
                    return true;
                }
                if (exists(user)) {
                    send(ex, 409, Map.of("error", "user " + user + " already exists"));
                    return true;
                }
                add(user, password);
                CarbonLog.info(CATEGORY, "User " + user + " added to " + ds.name);
                send(ex, 201, Map.of("user", user, "created", true));
            } else if (path.startsWith(PREFIX + "/") && ex.getRequestMethod().equals("GET")) {
                String user = URLDecoder.decode(path.substring(PREFIX.length() + 1), StandardCharsets.UTF_8);
                boolean found = exists(user);
                send(ex, found ? 200 : 404, Map.of("user", user, "exists", found));
            } else {
                send(ex, 405, Map.of("error", "POST " + PREFIX + " or GET " + PREFIX + "/{name}"));
            }
        } catch (SQLException e) {
            send(ex, 503, Map.of("error", "database " + ds.name + ": " + e.getMessage()));
        }
        return true;
    }

    private boolean exists(String user) throws SQLException {
        try (Connection c = ds.connect(); PreparedStatement s = c.prepareStatement(
                "SELECT UM_ID FROM UM_USER WHERE UM_USER_NAME = ? AND UM_TENANT_ID = ?")) {
            s.setString(1, user);
            s.setInt(2, TENANT);
            try (ResultSet r = s.executeQuery()) {
                return r.next();
            }
        }
    }

    private void add(String user, String password) throws SQLException {
        byte[] saltBytes = new byte[16];
        random.nextBytes(saltBytes);
        String salt = Base64.getEncoder().encodeToString(saltBytes);
        try (Connection c = ds.connect(); PreparedStatement s = c.prepareStatement(
                "INSERT INTO UM_USER (UM_USER_NAME, UM_USER_PASSWORD, UM_SALT_VALUE, UM_REQUIRE_CHANGE, "
                        + "UM_CHANGED_TIME, UM_TENANT_ID) VALUES (?, ?, ?, ?, ?, ?)")) {
            s.setString(1, user);
            s.setString(2, digest(password + salt));
            s.setString(3, salt);
            s.setBoolean(4, false);
            s.setTimestamp(5, new Timestamp(System.currentTimeMillis()));
            s.setInt(6, TENANT);
            s.executeUpdate();
            if (!c.getAutoCommit()) {
                c.commit();
            }
        }
    }

    private static String digest(String value) {
        try {
            return Base64.getEncoder().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private boolean authorised(HttpExchange ex) {
        return authorisedUser(ex, admin) != null;
    }

    /** The user of a Basic Authorization header whose credentials `admin` accepts; null otherwise. */
    static String authorisedUser(HttpExchange ex, BiPredicate<String, String> admin) {
        String h = ex.getRequestHeaders().getFirst("Authorization");
        if (h == null || !h.startsWith("Basic ")) {
            return null;
        }
        String pair;
        try {
            pair = new String(Base64.getDecoder().decode(h.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = pair.indexOf(':');
        return colon > 0 && admin.test(pair.substring(0, colon), pair.substring(colon + 1))
                ? pair.substring(0, colon) : null;
    }

    static Map<String, String> form(HttpExchange ex) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (InputStream in = ex.getRequestBody()) {
            String body = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
            for (String pair : body.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    static void send(HttpExchange ex, int code, Map<String, ?> body) throws IOException {
        byte[] bytes = (Json.write(new LinkedHashMap<>(body)) + "\n").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(code, bytes.length);
        ex.getResponseBody().write(bytes);
    }
}
