package org.wso2.carbon.synthetic;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Reads the real Carbon 4.4 / IS 5.1.0 configuration files the way the product does, so that a
 * wrongly rendered file breaks the synthetic server just like it would break the real one.
 * Element paths are written from the document root, e.g. Server/Ports/Offset in carbon.xml.
 */
final class ServerConfig {

    /** A keystore as configured in carbon.xml Security/KeyStore or on the https Connector. */
    static final class KeyStoreConf {
        String source;      // where it was configured, for error messages
        Path location;
        String type;
        String password;
        String keyAlias;    // null: first private key entry (Tomcat's behaviour)
        String keyPassword;
    }

    /** The axis2.xml clustering element. */
    static final class Clustering {
        boolean enabled;
        String membershipScheme = "multicast";
        String domain = "wso2.carbon.domain";
        final Map<String, String> parameters = new LinkedHashMap<>();
    }

    static final class ConfigException extends Exception {
        private static final long serialVersionUID = 1L;

        ConfigException(String message) {
            super(message);
        }
    }

    final Path home;
    String productName = "WSO2 Identity Server";
    String productVersion = "5.1.0";
    String hostName;
    String mgtHostName;
    int offset;
    /** Leaves of carbon.xml Server/Ports as "Ports.EmbeddedLDAP.KDCServerPort" -> "8000". */
    final Map<String, String> ports = new LinkedHashMap<>();
    KeyStoreConf carbonKeyStore;
    KeyStoreConf trustStore;    // carbon.xml Security/TrustStore: the JVM's default truststore once started
    KeyStoreConf connectorKeyStore;
    int httpPort;      // catalina-server.xml values, without the offset
    int httpsPort;
    int kdcPort;       // embedded-ldap.xml, without the offset
    int thriftPort;    // identity.xml, without the offset
    Clustering clustering;
    /** axis2.xml Pass-Through transport receivers (API Manager's gateway): name -> port, without the offset. */
    final Map<String, Integer> passThroughPorts = new LinkedHashMap<>();

    private ServerConfig(Path home) {
        this.home = home;
    }

    static ServerConfig load(Path home) throws ConfigException {
        ServerConfig c = new ServerConfig(home);
        c.readCarbonXml();
        c.readCatalina();
        c.readEmbeddedLdap();
        c.readIdentityXml();
        c.readAxis2();
        return c;
    }

    // ---- carbon.xml ----

    private void readCarbonXml() throws ConfigException {
        String file = "repository/conf/carbon.xml";
        Element server = root(file, "Server");
        productName = text(server, "Name", productName);
        productVersion = text(server, "Version", productVersion);
        hostName = text(server, "HostName", null);
        mgtHostName = text(server, "MgtHostName", null);

        Element portsEl = child(server, "Ports");
        if (portsEl == null) {
            throw new ConfigException(file + ": element Server/Ports is missing");
        }
        collectLeaves(portsEl, "Ports", ports);
        // Carbon lets -DportOffset=N override Server/Ports/Offset.
        String offsetText = System.getProperty("portOffset", ports.getOrDefault("Ports.Offset", "0"));
        offset = parseInt(offsetText, file + ": Server/Ports/Offset");
        if (offset < 0) {
            throw new ConfigException(file + ": Server/Ports/Offset must not be negative, got " + offset);
        }

        Element ks = path(server, "Security", "KeyStore");
        if (ks == null) {
            throw new ConfigException(file + ": element Server/Security/KeyStore is missing");
        }
        KeyStoreConf k = new KeyStoreConf();
        k.source = file + " Server/Security/KeyStore";
        k.location = resolvePath(required(ks, "Location", file + ": Server/Security/KeyStore/Location"));
        k.type = text(ks, "Type", "JKS");
        k.password = required(ks, "Password", file + ": Server/Security/KeyStore/Password");
        k.keyAlias = required(ks, "KeyAlias", file + ": Server/Security/KeyStore/KeyAlias");
        k.keyPassword = text(ks, "KeyPassword", k.password);
        carbonKeyStore = k;

        Element ts = path(server, "Security", "TrustStore");
        if (ts != null) {
            KeyStoreConf t = new KeyStoreConf();
            t.source = file + " Server/Security/TrustStore";
            t.location = resolvePath(required(ts, "Location", file + ": Server/Security/TrustStore/Location"));
            t.type = text(ts, "Type", "JKS");
            t.password = required(ts, "Password", file + ": Server/Security/TrustStore/Password");
            trustStore = t;
        }
    }

    // ---- tomcat/catalina-server.xml ----

    private void readCatalina() throws ConfigException {
        String file = "repository/conf/tomcat/catalina-server.xml";
        Element server = root(file, "Server");
        Element http = null;
        Element https = null;
        for (Element service : children(server, "Service")) {
            for (Element con : children(service, "Connector")) {
                boolean secure = "true".equalsIgnoreCase(con.getAttribute("SSLEnabled"))
                        || "https".equalsIgnoreCase(con.getAttribute("scheme"));
                if (secure && https == null) {
                    https = con;
                } else if (!secure && http == null) {
                    http = con;
                }
            }
        }
        if (http == null) {
            throw new ConfigException(file + ": no plain HTTP <Connector> under Server/Service");
        }
        if (https == null) {
            throw new ConfigException(file + ": no <Connector SSLEnabled=\"true\"> under Server/Service");
        }
        httpPort = parseInt(resolve(http.getAttribute("port")), file + ": http Connector @port");
        httpsPort = parseInt(resolve(https.getAttribute("port")), file + ": https Connector @port");

        // Tomcat takes TLS material from the Connector attributes; like Tomcat, fall back to the
        // carbon.xml keystore when they are absent.
        KeyStoreConf k = new KeyStoreConf();
        k.source = file + " https Connector";
        String ksFile = https.getAttribute("keystoreFile");
        k.location = ksFile.isEmpty() ? carbonKeyStore.location : resolvePath(ksFile);
        String ksPass = https.getAttribute("keystorePass");
        k.password = ksPass.isEmpty() ? carbonKeyStore.password : resolve(ksPass);
        String ksType = https.getAttribute("keystoreType");
        k.type = ksType.isEmpty() ? "JKS" : resolve(ksType);
        String alias = https.getAttribute("keyAlias");
        k.keyAlias = alias.isEmpty() ? null : resolve(alias);
        String keyPass = https.getAttribute("keyPass");
        k.keyPassword = keyPass.isEmpty() ? k.password : resolve(keyPass);
        connectorKeyStore = k;
    }

    // ---- embedded-ldap.xml ----

    private void readEmbeddedLdap() throws ConfigException {
        String file = "repository/conf/embedded-ldap.xml";
        Element rootEl = root(file, "EmbeddedLDAPConfig");
        Element kdc = child(rootEl, "KDCServer");
        String port = kdc == null ? null : property(kdc, "port");
        if (port == null) {
            throw new ConfigException(file + ": EmbeddedLDAPConfig/KDCServer/Property[@name='port'] is missing");
        }
        kdcPort = parseInt(resolve(port), file + ": EmbeddedLDAPConfig/KDCServer/Property[@name='port']");
    }

    // ---- identity/identity.xml ----

    private void readIdentityXml() throws ConfigException {
        String file = "repository/conf/identity/identity.xml";
        Element server = root(file, "Server");
        Element ent = child(server, "EntitlementSettings");
        // The real IS 5.1.0 file spells it "ThirftBasedEntitlementConfig"; accept the correct
        // spelling too.
        Element thrift = ent == null ? null : child(ent, "ThirftBasedEntitlementConfig");
        if (thrift == null && ent != null) {
            thrift = child(ent, "ThriftBasedEntitlementConfig");
        }
        String port = thrift == null ? null : text(thrift, "ReceivePort", null);
        if (port == null) {
            throw new ConfigException(
                    file + ": Server/EntitlementSettings/ThirftBasedEntitlementConfig/ReceivePort is missing");
        }
        thriftPort = parseInt(resolve(port),
                file + ": Server/EntitlementSettings/ThirftBasedEntitlementConfig/ReceivePort");
    }

    // ---- axis2/axis2.xml ----

    private void readAxis2() throws ConfigException {
        String file = "repository/conf/axis2/axis2.xml";
        Element axis = root(file, "axisconfig");
        Clustering cl = new Clustering();
        Element c = child(axis, "clustering");
        if (c != null) {
            cl.enabled = "true".equalsIgnoreCase(c.getAttribute("enable").trim());
            for (Element p : children(c, "parameter")) {
                // Nested parameters (e.g. "properties") carry no scalar value.
                if (children(p, null).isEmpty()) {
                    cl.parameters.put(p.getAttribute("name"), resolve(p.getTextContent().trim()));
                }
            }
            String scheme = cl.parameters.get("membershipScheme");
            if (scheme != null && !scheme.isEmpty()) {
                cl.membershipScheme = scheme;
            }
            String domain = cl.parameters.get("domain");
            if (domain != null && !domain.isEmpty()) {
                cl.domain = domain;
            }
        }
        clustering = cl;
        // Synapse's Pass-Through listeners (API Manager's gateway: 8280/8243); Identity Server has none.
        for (Element receiver : children(axis, "transportReceiver")) {
            if (!receiver.getAttribute("class").contains(".passthru.")) {
                continue;
            }
            for (Element p : children(receiver, "parameter")) {
                if ("port".equals(p.getAttribute("name"))) {
                    String what = file + ": transportReceiver[@name='" + receiver.getAttribute("name") + "']/port";
                    passThroughPorts.put(receiver.getAttribute("name"), parseInt(resolve(p.getTextContent().trim()), what));
                }
            }
        }
    }

    // ---- helpers ----

    private Element root(String relative, String expected) throws ConfigException {
        Path file = home.resolve(relative);
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(relative + " not found under " + home);
        }
        Document doc;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(false);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            doc = b.parse(file.toFile());
        } catch (Exception e) {
            throw new ConfigException(relative + " is not well-formed XML: " + e.getMessage());
        }
        Element r = doc.getDocumentElement();
        if (!expected.equals(localName(r))) {
            throw new ConfigException(relative + ": root element is <" + r.getTagName() + ">, expected <"
                    + expected + ">");
        }
        return r;
    }

    private static String localName(Element e) {
        String n = e.getTagName();
        int colon = n.indexOf(':');
        return colon < 0 ? n : n.substring(colon + 1);
    }

    /** Child elements with the given local name (all child elements when name is null). */
    static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element && (name == null || name.equals(localName((Element) n)))) {
                out.add((Element) n);
            }
        }
        return out;
    }

    static Element child(Element parent, String name) {
        List<Element> l = children(parent, name);
        return l.isEmpty() ? null : l.get(0);
    }

    private static Element path(Element from, String... names) {
        Element e = from;
        for (String n : names) {
            if (e == null) {
                return null;
            }
            e = child(e, n);
        }
        return e;
    }

    private String text(Element parent, String name, String dflt) {
        Element e = child(parent, name);
        if (e == null) {
            return dflt;
        }
        String t = resolve(e.getTextContent().trim());
        return t.isEmpty() ? dflt : t;
    }

    private String required(Element parent, String name, String what) throws ConfigException {
        String t = text(parent, name, null);
        if (t == null) {
            throw new ConfigException(what + " is missing or empty");
        }
        return t;
    }

    private static String property(Element parent, String name) {
        for (Element p : children(parent, "Property")) {
            if (name.equals(p.getAttribute("name"))) {
                return p.getTextContent().trim();
            }
        }
        return null;
    }

    private static void collectLeaves(Element e, String prefix, Map<String, String> out) {
        List<Element> kids = children(e, null);
        if (kids.isEmpty()) {
            out.put(prefix, e.getTextContent().trim());
            return;
        }
        for (Element k : kids) {
            collectLeaves(k, prefix + "." + localName(k), out);
        }
    }

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^}]+)}");

    /** Expands ${carbon.home}, ${Ports.*} (from carbon.xml) and other system properties. */
    String resolve(String value) {
        Matcher m = PLACEHOLDER.matcher(value);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String key = m.group(1);
            String v;
            if (key.equals("carbon.home")) {
                v = home.toString();
            } else if (ports.containsKey(key)) {
                v = ports.get(key);
            } else {
                v = System.getProperty(key);
            }
            m.appendReplacement(b, Matcher.quoteReplacement(v != null ? v : m.group()));
        }
        m.appendTail(b);
        return b.toString();
    }

    private Path resolvePath(String value) {
        Path p = Path.of(resolve(value));
        return p.isAbsolute() ? p : home.resolve(p);
    }

    private static int parseInt(String text, String what) throws ConfigException {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(what + " is '" + text + "', not a number");
        }
    }
}
