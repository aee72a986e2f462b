package org.wso2.carbon.synthetic;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * Synthetic WSO2 Carbon server: a small stand-in for WSO2 Identity Server 5.1.0 that reads the real
 * configuration files and opens the same ports, so that images, Kubernetes manifests and the
 * Kubernetes membership scheme can be exercised without the real product pack.
 *
 * It is started by bin/wso2server.sh with -Dcarbon.home and, like Carbon's Bootstrap, accepts
 * -Dkey=value program arguments as system properties (e.g. -DportOffset=1).
 */
public final class CarbonServer {
    private static final String CORE = "org.wso2.carbon.core.internal.CarbonCoreActivator";
    private static final String MANAGER = "org.wso2.carbon.core.init.CarbonServerManager";
    private static final String KEYSTORES = "org.wso2.carbon.core.util.KeyStoreManager";
    private static final String TOMCAT = "org.wso2.carbon.tomcat.ext.service.ExtendedStandardService";
    private static final String CLUSTER = "org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent";
    private static final String FINALIZER = "org.wso2.carbon.core.internal.StartupFinalizerServiceComponent";

    private final ServerConfig config;
    private final String selfIp;
    private final Instant startedAt = Instant.now();
    private final List<Runnable> closers = new ArrayList<>();
    private final Map<String, Integer> listeners = new LinkedHashMap<>();
    private KubernetesMembership membership;
    private HazelcastMember hazelcast;  // the member's Hazelcast instance (kubernetes scheme)
    private ConsoleLogin console;
    private CarbonDataSource database;   // null: the pack's per-member H2
    private final java.util.List<CarbonDataSource> datasources = new java.util.ArrayList<>();  // all, watched
    private JdbcUserStore users;
    private ApiManagerConfig apiManager;  // API Manager packs only
    private ApiTable apis;  // API Manager's AM_API, when its datasource is a shared database
    private SSLContext clientTls;  // what this server's own HTTPS calls trust: carbon.xml TrustStore
    private String membershipProblem;   // for schemes the synthetic server does not implement
    private volatile boolean up;

    private CarbonServer(ServerConfig config) {
        this.config = config;
        this.selfIp = localIp();
    }

    public static void main(String[] args) {
        for (String a : args) {
            if (a.startsWith("-D") && a.contains("=")) {
                int eq = a.indexOf('=');
                System.setProperty(a.substring(2, eq), a.substring(eq + 1));
            }
        }
        String homeProp = System.getProperty("carbon.home", System.getenv("CARBON_HOME"));
        if (homeProp == null || homeProp.isEmpty()) {
            System.err.println("carbon.home is not set: start the server with bin/wso2server.sh");
            System.exit(1);
        }
        Path home = Path.of(homeProp).toAbsolutePath().normalize();
        CarbonLog.init(home);
        CarbonLog.info(CORE, "Starting WSO2 Carbon...");
        CarbonLog.info(CORE, "Operating System : " + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + ", " + System.getProperty("os.arch"));
        CarbonLog.info(CORE, "Java Home        : " + System.getProperty("java.home"));
        CarbonLog.info(CORE, "Java Version     : " + System.getProperty("java.version"));
        CarbonLog.info(CORE, "Java VM          : " + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.vm.version") + "," + System.getProperty("java.vendor"));
        CarbonLog.info(CORE, "Carbon Home      : " + home);
        CarbonLog.info(CORE, "Java Temp Dir    : " + System.getProperty("java.io.tmpdir"));
        CarbonLog.info(CORE, "User             : " + System.getProperty("user.name") + ", "
                + System.getProperty("user.language") + "-" + System.getProperty("user.country") + ", "
                + System.getProperty("user.timezone"));

        CarbonServer server;
        try {
            server = new CarbonServer(ServerConfig.load(home));
            server.start();
        } catch (ServerConfig.ConfigException | StartupException e) {
            CarbonLog.error(MANAGER, e.getMessage());
            CarbonLog.error(MANAGER, "Cannot start WSO2 Carbon: startup failed, exiting");
            System.exit(1);
            return;
        }
        // The HTTP server threads keep the JVM alive; SIGTERM runs the shutdown hook.
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static final class StartupException extends Exception {
        private static final long serialVersionUID = 1L;

        StartupException(String message) {
            super(message);
        }
    }

    private void start() throws StartupException {
        String product = config.productName + "-" + config.productVersion;
        CarbonLog.info(MANAGER, "Starting " + product + " (synthetic pack: not the real product)");

        checkCarbonKeyStore();
        useTrustStore();
        SSLContext tls = connectorTls();
        try {
            console = ConsoleLogin.load(config.home);  // user-mgt.xml: Carbon reads its admin user at startup
        } catch (ServerConfig.ConfigException e) {
            throw new StartupException(e.getMessage());
        }
        CarbonDataSource apiData = null;  // api-manager.xml's DataSourceName (API Manager only)
        try {
            apiManager = ApiManagerConfig.load(config.home);
            database = CarbonDataSource.load(config.home);  // the realm's datasource (user-mgt.xml)
            if (database != null) {
                datasources.add(database);
            }
            List<CarbonDataSource> others = new ArrayList<>(CarbonDataSource.others(config.home));  // registry, identity
            if (apiManager != null && !apiManager.dataSource.isEmpty()) {
                apiData = CarbonDataSource.byJndi(config.home, apiManager.dataSource, "api-manager.xml DataSourceName",
                        "");
                if (apiData != null) {
                    others.add(apiData);
                }
            }
            for (CarbonDataSource ds : others) {
                CarbonDataSource same = datasources.stream().filter(d -> d.name.equals(ds.name)).findFirst()
                        .orElse(null);
                if (same == null) {
                    datasources.add(ds);
                } else {
                    same.registry |= ds.registry;  // one datasource, several uses
                    if (ds == apiData) {
                        apiData = same;
                    }
                }
            }
        } catch (ServerConfig.ConfigException e) {
            throw new StartupException(e.getMessage());
        }
        if (apiData != null) {
            apis = new ApiTable(apiData, console::credentialsMatch);
        }
        for (CarbonDataSource ds : datasources) {
            ds.watch();
            if (ds.registry) {
                JdbcUserStore.initRegistry(ds);
            }
        }
        if (database != null) {
            JdbcUserStore store = new JdbcUserStore(database, console::credentialsMatch);
            if (database.jdbcUserStore()) {
                users = store;
            } else {
                CarbonLog.warn("org.wso2.carbon.user.core.common.DefaultRealm", "The primary user store is "
                        + database.userStoreClass + ": users stay out of " + database.name + " (per member)");
            }
        }

        clientTls = trustTls();
        int http = port(config.httpPort, "HTTP (catalina-server.xml http Connector @port)");
        int https = port(config.httpsPort, "HTTPS (catalina-server.xml https Connector @port)");
        int kdc = port(config.kdcPort, "KDC (embedded-ldap.xml KDCServer port)");
        int thrift = port(config.thriftPort, "Thrift entitlement (identity.xml ReceivePort)");
        if (config.offset != 0) {
            CarbonLog.info(MANAGER, "Port offset      : " + config.offset);
        }

        setUpClustering();

        try {
            startHttp("http", http, null);
            startHttp("https", https, tls);
            startBanner("kdc", kdc, config.productName + " " + config.productVersion + " embedded KDC");
            startBanner("thrift", thrift, config.productName + " " + config.productVersion
                    + " Thrift entitlement service");
            for (Map.Entry<String, Integer> pt : config.passThroughPorts.entrySet()) {  // API Manager's gateway
                String name = "passthrough-" + pt.getKey();
                startHttp(name, port(pt.getValue(), "axis2.xml Pass-Through " + pt.getKey() + " port"),
                        pt.getKey().equals("https") ? tls : null);
                CarbonLog.info("org.apache.synapse.transport.passthru.PassThroughHttpListener",
                        "Pass-through " + pt.getKey().toUpperCase() + " Listener started on 0:0:0:0:0:0:0:0:"
                                + listeners.get(name));
            }
        } catch (StartupException e) {
            closeAll();
            throw e;
        }
        if (membership != null) {
            membership.start();
            startHazelcast();
        }
        up = true;
        Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "carbon-shutdown"));
        writePidFile();

        String consoleHost = config.mgtHostName != null ? config.mgtHostName
                : config.hostName != null ? config.hostName : selfIp;
        CarbonLog.info("org.wso2.carbon.core.transports.http.HttpTransportListener",
                "HTTP port        : " + http);
        CarbonLog.info("org.wso2.carbon.core.transports.http.HttpsTransportListener",
                "HTTPS port       : " + https);
        CarbonLog.info("org.wso2.carbon.identity.entitlement.thrift.ThriftEntitlementServiceComponent",
                "Thrift entitlement receive port : " + thrift);
        CarbonLog.info("org.wso2.carbon.ldap.server.DirectoryActivator", "KDC server port  : " + kdc);
        CarbonLog.info("org.wso2.carbon.ui.internal.CarbonUIServiceComponent",
                "Mgt Console URL  : https://" + consoleHost + ":" + https + "/carbon/");
        CarbonLog.info(FINALIZER, "Server           :  " + product);
        long secs = Duration.between(ProcessHandle.current().info().startInstant().orElse(startedAt),
                Instant.now()).getSeconds();
        CarbonLog.info(FINALIZER, "WSO2 Carbon started in " + secs + " sec");
    }

    private int port(int configured, String what) throws StartupException {
        int p = configured + config.offset;
        if (configured <= 0 || p > 65535) {
            throw new StartupException(what + ": " + configured + " + offset " + config.offset + " = " + p
                    + " is not a valid port");
        }
        return p;
    }

    // ---- keystores ----

    /** Carbon loads its primary keystore at startup; a wrong password stops the server. */
    private void checkCarbonKeyStore() throws StartupException {
        ServerConfig.KeyStoreConf k = config.carbonKeyStore;
        KeyStore ks = loadKeyStore(k);
        try {
            if (!ks.isKeyEntry(k.keyAlias)) {
                throw new StartupException("Keystore " + k.location + " has no private key with alias '" + k.keyAlias
                        + "' (" + k.source + "/KeyAlias)");
            }
            ks.getKey(k.keyAlias, k.keyPassword.toCharArray());
        } catch (UnrecoverableKeyException e) {
            throw new StartupException("Cannot recover the private key '" + k.keyAlias + "' of " + k.location
                    + ": KeyPassword in " + k.source + " is wrong");
        } catch (java.security.GeneralSecurityException e) {
            throw new StartupException("Cannot read keystore " + k.location + ": " + e);
        }
        CarbonLog.info(KEYSTORES, "Loaded primary keystore " + k.location + " (" + k.type + ", key alias "
                + k.keyAlias + ")");
    }

    /**
     * As Carbon's startup does: carbon.xml Security/TrustStore becomes the JVM's default truststore
     * (javax.net.ssl.trustStore*), which every HTTPS client of the server uses, the membership scheme's
     * included. A -Djavax.net.ssl.trustStore on the command line wins (tests of the server alone).
     */
    private void useTrustStore() throws StartupException {
        ServerConfig.KeyStoreConf t = config.trustStore;
        if (t == null || System.getProperty("javax.net.ssl.trustStore") != null) {
            return;
        }
        loadKeyStore(t); // a wrong password or a missing file stops the server here, not at the first request
        System.setProperty("javax.net.ssl.trustStore", t.location.toString());
        System.setProperty("javax.net.ssl.trustStoreType", t.type);
        System.setProperty("javax.net.ssl.trustStorePassword", t.password);
        CarbonLog.info(KEYSTORES, "Using truststore " + t.location + " (" + t.type + ") as the JVM's default");
    }

    /** The carbon.xml TrustStore as an SSLContext for this server's own HTTPS clients (none: the JVM's). */
    private SSLContext trustTls() throws StartupException {
        if (config.trustStore == null) {
            return null;
        }
        KeyStore ts = loadKeyStore(config.trustStore);
        try {
            javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new StartupException("Cannot use the truststore " + config.trustStore.location + ": " + e);
        }
    }

    private SSLContext connectorTls() throws StartupException {
        ServerConfig.KeyStoreConf k = config.connectorKeyStore;
        KeyStore ks = loadKeyStore(k);
        try {
            String alias = k.keyAlias;
            if (alias == null) {
                // Tomcat uses the first key entry when the Connector names no keyAlias.
                for (String a : Collections.list(ks.aliases())) {
                    if (ks.isKeyEntry(a)) {
                        alias = a;
                        break;
                    }
                }
            }
            if (alias == null || !ks.isKeyEntry(alias)) {
                throw new StartupException("Keystore " + k.location + " (" + k.source + ") has no private key"
                        + (alias == null ? "" : " with alias '" + alias + "'"));
            }
            Key key;
            try {
                key = ks.getKey(alias, k.keyPassword.toCharArray());
            } catch (UnrecoverableKeyException e) {
                throw new StartupException("Cannot recover the private key '" + alias + "' of " + k.location
                        + ": the key password of the " + k.source + " is wrong");
            }
            // Only the chosen key goes to the key manager, so the served certificate is predictable. This
            // in-memory store has a password of its own: PKCS12 accepts only ASCII ones, the user's may not be.
            char[] inMemory = "in-memory".toCharArray();
            KeyStore one = KeyStore.getInstance("PKCS12");
            one.load(null, null);
            Certificate[] chain = ks.getCertificateChain(alias);
            one.setKeyEntry(alias, (PrivateKey) key, inMemory, chain);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(one, inMemory);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (StartupException e) {
            throw e;
        } catch (Exception e) {
            throw new StartupException("Cannot set up TLS for the https Connector from " + k.location + ": " + e);
        }
    }

    private KeyStore loadKeyStore(ServerConfig.KeyStoreConf k) throws StartupException {
        if (!Files.isReadable(k.location)) {
            throw new StartupException("Keystore " + k.location + " configured in " + k.source
                    + " does not exist or is not readable");
        }
        try (InputStream in = Files.newInputStream(k.location)) {
            KeyStore ks = KeyStore.getInstance(k.type);
            ks.load(in, k.password.toCharArray());
            return ks;
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException
                    || String.valueOf(e.getMessage()).contains("password")) {
                throw new StartupException("Cannot load keystore " + k.location + " (" + k.type
                        + "): keystore password was incorrect \u2014 check the password in " + k.source);
            }
            throw new StartupException("Cannot load keystore " + k.location + " (" + k.type + ") configured in "
                    + k.source + ": " + e.getMessage());
        } catch (java.security.GeneralSecurityException e) {
            throw new StartupException("Cannot load keystore " + k.location + " configured in " + k.source
                    + ": " + e);
        }
    }

    // ---- clustering ----

    private void setUpClustering() {
        ServerConfig.Clustering cl = config.clustering;
        if (!cl.enabled) {
            CarbonLog.info(MANAGER, "Clustering has been disabled");
            return;
        }
        CarbonLog.info(CLUSTER, "Cluster domain: " + cl.domain + ", local member IP: " + selfIp);
        CarbonLog.info(CLUSTER, "Using " + cl.membershipScheme + " based membership management scheme");
        if ("kubernetes".equals(cl.membershipScheme)) {
            membership = new KubernetesMembership(config.home, cl.parameters);
        } else {
            membershipProblem = "membership scheme '" + cl.membershipScheme + "' is not simulated by the synthetic "
                    + "server (only 'kubernetes' is); this member only sees itself";
            CarbonLog.warn(CLUSTER, membershipProblem);
        }
    }

    private void startHazelcast() {
        try {
            HazelcastMember.routeLogging();
            hazelcast = new HazelcastMember(config.home, config.clustering.domain, config.clustering.parameters, selfIp,
                    () -> membership.snapshot().members);
            hazelcast.start();
        } catch (LinkageError e) {  // no hazelcast jar in repository/components/plugins
            CarbonLog.error(CLUSTER, "Hazelcast is not available (" + e + "): this member joins no cluster");
        }
    }

    private Map<String, Object> membersJson() {
        ServerConfig.Clustering cl = config.clustering;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scheme", cl.enabled ? cl.membershipScheme : "none");
        m.put("clustering_enabled", cl.enabled);
        m.put("domain", cl.enabled ? cl.domain : null);
        // What the scheme jar read: namespace, services, api_server (API mode) or dns_names (DNS mode).
        Map<String, Object> scheme = membership != null ? membership.describe() : Map.of();
        m.put("namespace", scheme.get("namespace"));
        m.put("services", scheme.getOrDefault("services", List.of()));
        m.put("api_server", scheme.get("api_server"));
        m.put("dns_names", scheme.get("dns_names"));
        m.put("self", selfIp);
        if (membership != null) {
            KubernetesMembership.Snapshot s = membership.snapshot();
            m.put("members", s.members);
            m.put("last_error", s.lastError);
            m.put("updated_at", s.updatedAt == null ? null : s.updatedAt.toString());
            m.put("hazelcast", hazelcastJson());
        } else {
            m.put("members", List.of(selfIp));
            m.put("last_error", membershipProblem);
            m.put("updated_at", startedAt.toString());
        }
        return m;
    }

    private Map<String, Object> hazelcastJson() {
        Map<String, Object> h = new LinkedHashMap<>();
        if (hazelcast == null) {
            h.put("status", "unavailable");
            return h;
        }
        HazelcastMember.State st = hazelcast.state();
        h.put("status", st.status);
        h.put("port", hazelcast.port());
        h.put("members", st.members);
        h.put("error", st.error);
        return h;
    }

    // ---- listeners ----

    private void startHttp(String name, int port, SSLContext tls) throws StartupException {
        HttpServer server;
        try {
            if (tls == null) {
                server = HttpServer.create(new InetSocketAddress(port), 100);
            } else {
                HttpsServer s = HttpsServer.create(new InetSocketAddress(port), 100);
                s.setHttpsConfigurator(new HttpsConfigurator(tls));
                server = s;
            }
        } catch (BindException e) {
            throw new StartupException("Cannot bind the " + name.toUpperCase() + " port " + port + ": " + e.getMessage()
                    + " (is another server using it? change Server/Ports/Offset in carbon.xml)");
        } catch (IOException e) {
            throw new StartupException("Cannot open the " + name.toUpperCase() + " port " + port + ": " + e);
        }
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> new Thread(r, name + "-worker"));
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        server.start();
        listeners.put(name, port);
        CarbonLog.info(TOMCAT, "Starting Connector " + name + "-nio-" + port);
        closers.add(() -> {
            server.stop(0);
            pool.shutdownNow();
        });
    }

    /** KDC and Thrift only need to accept TCP connections; each client gets a one-line banner. */
    private void startBanner(String name, int port, String banner) throws StartupException {
        ServerSocket ss;
        try {
            ss = new ServerSocket();
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(port), 50);
        } catch (IOException e) {
            throw new StartupException("Cannot bind the " + name + " port " + port + ": " + e.getMessage()
                    + " (is another server using it? change Server/Ports/Offset in carbon.xml)");
        }
        Thread t = new Thread(() -> {
            while (!ss.isClosed()) {
                try (Socket s = ss.accept(); OutputStream out = s.getOutputStream()) {
                    out.write((banner + " (synthetic) on port " + port + "\n").getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    // closed on shutdown, or the client went away
                }
            }
        }, name + "-listener");
        t.setDaemon(true);
        t.start();
        listeners.put(name, port);
        closers.add(() -> {
            try {
                ss.close();
            } catch (IOException ignored) {
                // shutting down
            }
        });
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getPath();
            ex.getResponseHeaders().set("Server", "WSO2 Carbon Server");
            ex.getResponseHeaders().set("X-Carbon-Product", config.productName + " " + config.productVersion);
            // Which member answered (its pod IP): what the edge tests count stickiness and spread by.
            ex.getResponseHeaders().set("X-Synthetic-Member", selfIp);
            if (console.handle(ex, path) || (users != null && users.handle(ex, path))
                    || (apis != null && apis.handle(ex, path))) {
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                send(ex, 405, "text/plain", "Method Not Allowed\n");
                return;
            }
            switch (path) {
                case "/":
                case "/carbon":
                    ex.getResponseHeaders().set("Location", "/carbon/");
                    send(ex, 302, "text/plain", "");
                    return;
                case "/carbon/":
                case ConsoleLogin.LOGIN:
                    String down = databaseProblem();
                    if (down != null) {  // readiness: no console without its databases; the driver's own text
                        send(ex, 503, "text/plain", down + "\n");
                        return;
                    }
                    String query = String.valueOf(ex.getRequestURI().getRawQuery());
                    send(ex, 200, "text/html; charset=UTF-8", loginPage(query.contains("loginStatus=false")));
                    return;
                case "/services/":  // Carbon's admin services (what other profiles' ServerURLs point at)
                    send(ex, 200, "text/html; charset=UTF-8", "<html><body><h2>Deployed services</h2><p>"
                            + config.productName + " " + config.productVersion + " (synthetic)</p></body></html>\n");
                    return;
                case "/wso2k8s/apim":  // what api-manager.xml points this profile at, and whether it answers there
                    if (apiManager == null) {
                        send(ex, 404, "text/plain", "no " + ApiManagerConfig.FILE + "\n");
                    } else {
                        send(ex, 200, "application/json", Json.write(apiManager.probe(clientTls)) + "\n");
                    }
                    return;
                case "/cluster/members":
                    send(ex, 200, "application/json", Json.write(membersJson()) + "\n");
                    return;
                case "/health": {
                    Map<String, Object> h = new LinkedHashMap<>();
                    h.put("status", up ? "UP" : "DOWN");
                    h.put("listeners", listeners);
                    if (!datasources.isEmpty()) {
                        String problem = databaseProblem();
                        h.put("database", problem == null ? "UP" : problem);
                    }
                    send(ex, up ? 200 : 503, "application/json", Json.write(h) + "\n");
                    return;
                }
                default:
                    send(ex, 404, "text/html; charset=UTF-8",
                            "<html><head><title>404 - Not Found</title></head><body><h1>HTTP Status 404</h1>"
                                    + "<p>The requested resource is not available.</p></body></html>\n");
            }
        }
    }

    /** The first datasource that is down, as `wso2k8s-db: Datasource X is unreachable (url): <error>`; or null. */
    private String databaseProblem() {
        for (CarbonDataSource ds : datasources) {
            if (!ds.healthy()) {
                return ds.problem();
            }
        }
        return null;
    }

    private static void send(HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(code, head || bytes.length == 0 ? -1 : bytes.length);
        if (!head && bytes.length > 0) {
            ex.getResponseBody().write(bytes);
        }
    }

    private String loginPage(boolean failed) {
        return "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"UTF-8\">\n<title>" + config.productName
                + "</title>\n</head>\n<body>\n<div id=\"header\"><h1>" + config.productName + "</h1>"
                + "<p>Management Console &mdash; version " + config.productVersion + " (synthetic)</p></div>\n"
                + (failed ? "<p id=\"login-failed\">Login failed! Please recheck the username and password and try "
                        + "again.</p>\n" : "")
                + "<form method=\"POST\" action=\"../admin/login_action.jsp\" name=\"loginForm\">\n"
                + "<label for=\"txtUserName\">Username</label> <input type=\"text\" id=\"txtUserName\" name=\"username\">\n"
                + "<label for=\"txtPassword\">Password</label> <input type=\"password\" id=\"txtPassword\" name=\"password\">\n"
                + "<input type=\"submit\" value=\"Sign-in\">\n</form>\n"
                + "<p id=\"node\">Node: " + selfIp + "</p>\n</body>\n</html>\n";
    }

    // ---- lifecycle ----

    private void shutdown() {
        CarbonLog.info(MANAGER, "Shutdown hook triggered....");
        CarbonLog.info(MANAGER, "Gracefully shutting down " + config.productName + "...");
        up = false;
        if (hazelcast != null) {
            hazelcast.stop();
        }
        if (membership != null) {
            membership.stop();
        }
        closeAll();
        CarbonLog.info(MANAGER, "Shutdown complete");
        CarbonLog.info(MANAGER, "Halting JVM");
    }

    private void closeAll() {
        for (int i = closers.size() - 1; i >= 0; i--) {
            closers.get(i).run();
        }
        closers.clear();
    }

    private void writePidFile() {
        Path pid = config.home.resolve("wso2carbon.pid");
        try {
            Files.writeString(pid, ProcessHandle.current().pid() + "\n");
        } catch (IOException e) {
            CarbonLog.warn(MANAGER, "Cannot write " + pid + ": " + e.getMessage());
        }
    }

    /**
     * The address other members see: -Dcarbon.local.ip (as in Carbon's NetworkUtils), else the
     * first non-loopback IPv4 address (the pod IP in Kubernetes), else the loopback address.
     */
    static String localIp() {
        String prop = System.getProperty("carbon.local.ip");
        if (prop != null && !prop.isEmpty()) {
            return prop;
        }
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!ni.isUp() || ni.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
                        return a.getHostAddress();
                    }
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return "127.0.0.1";
    }
}
