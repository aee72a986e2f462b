package org.wso2.carbon.synthetic;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;

/**
 * The realm's datasource as Carbon finds it: user-mgt.xml names a JNDI name (Property dataSource), and
 * master-datasources.xml the datasource with that jndiConfig name (url, username, password, driverClassName,
 * validationQuery). The driver class is loaded from repository/components/lib, where Carbon takes third-party
 * jars from. A watcher runs the validation query every two seconds: the server logs each change and its
 * readiness follows (the console page answers 503 while the database is down).
 */
final class CarbonDataSource {
    private static final String CATEGORY = "org.wso2.carbon.ndatasource.core.DataSourceRepository";
    /** Starts every line about a datasource's health (log and readiness answer), for tools to pick out. */
    static final String PREFIX = "wso2k8s-db: ";

    final String name;
    final String url;
    final String userStoreClass;  // user-mgt.xml's primary UserStoreManager: JDBC ones keep users in this database
    private final String username;
    private final String password;
    private final String validationQuery;
    private final Driver driver;
    boolean registry;  // named by registry.xml: the member makes the registry root there
    private volatile boolean healthy;
    private volatile String lastError = "not checked yet";

    private CarbonDataSource(String name, String url, String username, String password, String validationQuery,
                             Driver driver, String userStoreClass) {
        this.name = name;
        this.userStoreClass = userStoreClass;
        this.url = url;
        this.username = username;
        this.password = password;
        this.validationQuery = validationQuery;
        this.driver = driver;
    }

    /** Null when the realm uses the pack's embedded H2 (one per member; the synthetic server keeps none). */
    static CarbonDataSource load(Path home) throws ServerConfig.ConfigException {
        Element realm = parse(home.resolve("repository/conf/user-mgt.xml"));
        String jndi = null;
        Element conf = ServerConfig.child(ServerConfig.child(realm, "Realm"), "Configuration");
        for (Element p : ServerConfig.children(conf, "Property")) {
            if ("dataSource".equals(p.getAttribute("name"))) {
                jndi = p.getTextContent().trim();
            }
        }
        if (jndi == null) {
            throw new ServerConfig.ConfigException("user-mgt.xml: Realm/Configuration has no dataSource property");
        }
        Element store = ServerConfig.child(ServerConfig.child(realm, "Realm"), "UserStoreManager");
        return byJndi(home, jndi, "user-mgt.xml dataSource", store == null ? "" : store.getAttribute("class"));
    }

    /**
     * The registry's datasources (registry.xml: every dbConfig's dataSource, the local wso2registry one first,
     * then those its mounts use) and the identity data's (identity.xml JDBCPersistenceManager/DataSource/Name),
     * as Carbon resolves them at startup. H2 ones are left out; a file the pack lacks names none.
     */
    static List<CarbonDataSource> others(Path home) throws ServerConfig.ConfigException {
        List<CarbonDataSource> out = new ArrayList<>();
        Path registry = home.resolve("repository/conf/registry.xml");
        if (Files.isRegularFile(registry)) {
            for (Element db : ServerConfig.children(parse(registry), "dbConfig")) {
                String jndi = text(db, "dataSource");
                if (!jndi.isEmpty()) {
                    CarbonDataSource ds = byJndi(home, jndi, "registry.xml dbConfig " + db.getAttribute("name"), "");
                    if (ds != null) {
                        ds.registry = true;
                    }
                    add(out, ds);
                }
            }
        }
        Path identity = home.resolve("repository/conf/identity/identity.xml");
        if (Files.isRegularFile(identity)) {
            Element jdbc = ServerConfig.child(parse(identity), "JDBCPersistenceManager");
            String jndi = jdbc == null ? "" : text(ServerConfig.child(jdbc, "DataSource"), "Name");
            if (!jndi.isEmpty()) {
                add(out, byJndi(home, jndi, "identity.xml JDBCPersistenceManager", ""));
            }
        }
        return out;
    }

    private static void add(List<CarbonDataSource> out, CarbonDataSource ds) {
        if (ds != null) {
            out.add(ds);
        }
    }

    static CarbonDataSource byJndi(Path home, String jndi, String namedBy, String userStoreClass)
            throws ServerConfig.ConfigException {
        Element root = parse(home.resolve("repository/conf/datasources/master-datasources.xml"));
        for (Element ds : ServerConfig.children(ServerConfig.child(root, "datasources"), "datasource")) {
            Element jndiConfig = ServerConfig.child(ds, "jndiConfig");
            if (jndiConfig == null || !jndi.equals(text(jndiConfig, "name"))) {
                continue;
            }
            Element c = ServerConfig.child(ServerConfig.child(ds, "definition"), "configuration");
            String url = text(c, "url");
            if (url.startsWith("jdbc:h2:")) {
                CarbonLog.info(CATEGORY, "Datasource " + text(ds, "name") + " is the embedded H2 (" + url
                        + "): each member keeps its own");
                return null;
            }
            Driver driver = loadDriver(home, text(c, "driverClassName"));
            return new CarbonDataSource(text(ds, "name"), url, text(c, "username"), text(c, "password"),
                    text(c, "validationQuery").isEmpty() ? "SELECT 1" : text(c, "validationQuery"), driver,
                    userStoreClass);
        }
        throw new ServerConfig.ConfigException("master-datasources.xml has no datasource with jndiConfig name "
                + jndi + " (" + namedBy + ")");
    }

    private static Driver loadDriver(Path home, String className) throws ServerConfig.ConfigException {
        List<URL> jars = new ArrayList<>();
        Path lib = home.resolve("repository/components/lib");
        try (DirectoryStream<Path> s = Files.newDirectoryStream(lib, "*.jar")) {
            for (Path jar : s) {
                jars.add(jar.toUri().toURL());
            }
        } catch (java.io.IOException e) {
            // no lib folder: the class is not found below
        }
        try {
            ClassLoader loader = new URLClassLoader(jars.toArray(new URL[0]), CarbonDataSource.class.getClassLoader());
            return (Driver) Class.forName(className, true, loader).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new ServerConfig.ConfigException("Cannot load the JDBC driver " + className + " from " + lib
                    + " (" + e + "): copy the driver jar there");
        }
    }

    Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", username);
        p.setProperty("password", password);
        boolean mysql = driver.getClass().getName().startsWith("com.mysql");
        p.setProperty("connectTimeout", mysql ? "5000" : "5");   // ms for Connector/J, s for pgJDBC
        p.setProperty("socketTimeout", mysql ? "10000" : "10");
        Connection c = driver.connect(url, p);
        if (c == null) {
            throw new SQLException("driver " + driver.getClass().getName() + " does not accept " + url);
        }
        return c;
    }

    boolean jdbcUserStore() {
        return userStoreClass.endsWith(".JDBCUserStoreManager");
    }

    boolean healthy() {
        return healthy;
    }

    String lastError() {
        return lastError;
    }

    /** Checks now, then every two seconds on a daemon thread. */
    void watch() {
        check();
        Thread t = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException e) {
                    return;
                }
                check();
            }
        }, "datasource-watch");
        t.setDaemon(true);
        t.start();
    }

    private void check() {
        String previous = lastError;
        String error = null;
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute(validationQuery);
        } catch (SQLException e) {
            error = e.getMessage() != null ? e.getMessage() : e.toString();
        }
        boolean was = healthy;
        lastError = error;  // before healthy: a reader that sees it false finds this error
        healthy = error == null;
        if (healthy && !was) {
            CarbonLog.info(CATEGORY, PREFIX + "Datasource " + name + " is reachable (" + url + ")");
        } else if (!healthy && (was || !error.equals(previous))) {
            CarbonLog.error(CATEGORY, problem() + "; the server reports not ready until it is back");
        }
    }

    /** One line saying what is wrong, with the driver's own text: what readiness answers and the log says. */
    String problem() {
        return PREFIX + "Datasource " + name + " is unreachable (" + url + "): " + lastError;
    }

    private static String text(Element parent, String name) {
        Element e = ServerConfig.child(parent, name);
        return e == null ? "" : e.getTextContent().trim();
    }

    private static Element parse(Path file) throws ServerConfig.ConfigException {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            return f.newDocumentBuilder().parse(file.toFile()).getDocumentElement();
        } catch (Exception e) {
            throw new ServerConfig.ConfigException("Cannot read " + file + ": " + e.getMessage());
        }
    }
}
