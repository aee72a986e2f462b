package org.wso2.carbon.synthetic;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsExchange;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;

/**
 * The management console's sign-in, as Carbon 4.4's: login.jsp's form posts {@code username} and
 * {@code password} to login_action.jsp; they are checked against user-mgt.xml's AdminUser, read the way
 * Carbon's RealmConfigXMLProcessor reads it at startup (${system.property} references resolved, then the
 * text trimmed); a match starts a servlet session (a JSESSIONID cookie, as Tomcat sets it) that
 * admin/index.jsp requires. A wrong password goes back to login.jsp?loginStatus=false with no session.
 * Sessions live in this member only, like Tomcat's without replication: the Service's ClientIP affinity
 * keeps a browser on one member.
 */
final class ConsoleLogin {
    static final String LOGIN = "/carbon/admin/login.jsp";
    static final String ACTION = "/carbon/admin/login_action.jsp";
    static final String INDEX = "/carbon/admin/index.jsp";
    static final String LOGOUT = "/carbon/admin/logout_action.jsp";
    private static final String USER_MGT = "repository/conf/user-mgt.xml";
    private static final String ADMIN_PATH = "UserManager/Realm/Configuration/AdminUser";
    private static final String COOKIE = "JSESSIONID";
    private static final int MAX_FORM_BYTES = 64 * 1024;
    private static final Pattern SYSTEM_PROPERTY = Pattern.compile("\\$\\{([^}]*)}");

    private final String adminUser;
    private final byte[] adminPassword;
    private final Set<String> sessions = ConcurrentHashMap.newKeySet();
    private final SecureRandom random = new SecureRandom();

    private ConsoleLogin(String adminUser, String adminPassword) {
        this.adminUser = adminUser;
        this.adminPassword = adminPassword.getBytes(StandardCharsets.UTF_8);
    }

    /** Reads the admin user as Carbon does at startup; a broken user-mgt.xml stops the server there too. */
    static ConsoleLogin load(Path home) throws ServerConfig.ConfigException {
        Path file = home.resolve(USER_MGT);
        if (!Files.isRegularFile(file)) {
            throw new ServerConfig.ConfigException(USER_MGT + " not found under " + home);
        }
        Element root;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            var builder = f.newDocumentBuilder();
            builder.setErrorHandler(null);
            root = builder.parse(file.toFile()).getDocumentElement();
        } catch (Exception e) {
            throw new ServerConfig.ConfigException(USER_MGT + " is not well-formed XML: " + e.getMessage());
        }
        Element admin = root.getTagName().equals("UserManager")
                ? descend(root, "Realm", "Configuration", "AdminUser") : null;
        String user = admin == null ? null : leaf(admin, "UserName");
        String password = admin == null ? null : leaf(admin, "Password");
        if (user == null || user.isEmpty()) {
            throw new ServerConfig.ConfigException(USER_MGT + ": " + ADMIN_PATH + "/UserName is missing or empty");
        }
        if (password == null || password.isEmpty()) {
            throw new ServerConfig.ConfigException(USER_MGT + ": " + ADMIN_PATH + "/Password is missing or empty");
        }
        return new ConsoleLogin(user, password);
    }

    private static Element descend(Element from, String... names) {
        Element e = from;
        for (String n : names) {
            e = e == null ? null : ServerConfig.child(e, n);
        }
        return e;
    }

    /** Carbon: CarbonUtils.replaceSystemVariablesInXml on the leaf text, then getText().trim(). */
    private static String leaf(Element parent, String name) {
        Element e = ServerConfig.child(parent, name);
        if (e == null) {
            return null;
        }
        Matcher m = SYSTEM_PROPERTY.matcher(e.getTextContent());
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String v = System.getProperty(m.group(1));
            m.appendReplacement(b, Matcher.quoteReplacement(v != null ? v : m.group()));
        }
        m.appendTail(b);
        return b.toString().trim();
    }

    /** Answers the console's session paths; false for any other path. */
    boolean handle(HttpExchange ex, String path) throws IOException {
        switch (path) {
            case ACTION:
                if (!ex.getRequestMethod().equals("POST")) {
                    redirect(ex, LOGIN + "?loginStatus=false");
                    return true;
                }
                Map<String, String> form = form(ex);
                if (form != null && credentialsMatch(form.get("username"), form.get("password"))) {
                    String id = newSessionId();
                    sessions.add(id);
                    // Tomcat: the session cookie of the root context, Secure on the TLS connector, HttpOnly.
                    ex.getResponseHeaders().add("Set-Cookie", COOKIE + "=" + id + "; Path=/"
                            + (ex instanceof HttpsExchange ? "; Secure" : "") + "; HttpOnly");
                    CarbonLog.info("org.wso2.carbon.core.services.util.CarbonAuthenticationUtil",
                            "'" + adminUser + "@carbon.super [-1234]' logged in");
                    redirect(ex, INDEX + "?loginStatus=true");
                } else {
                    CarbonLog.warn("org.wso2.carbon.core.services.util.CarbonAuthenticationUtil",
                            "Failed Administrator login attempt at " + java.time.Instant.now());
                    redirect(ex, LOGIN + "?loginStatus=false");
                }
                return true;
            case INDEX:
                if (sessions.contains(String.valueOf(sessionId(ex)))) {
                    send(ex, 200, "<!DOCTYPE html>\n<html><head><title>WSO2 Management Console</title></head><body>"
                            + "<p id=\"signed-in\">Signed-in as: " + html(adminUser) + "</p>"
                            + "<a href=\"logout_action.jsp\">Sign-out</a></body></html>\n");
                } else {
                    redirect(ex, LOGIN);
                }
                return true;
            case LOGOUT:
                String id = sessionId(ex);
                if (id != null) {
                    sessions.remove(id);
                }
                redirect(ex, LOGIN);
                return true;
            default:
                return false;
        }
    }

    /** Constant-time on the password, so the stand-in leaks no more than the product. */
    boolean credentialsMatch(String user, String password) {
        if (user == null || password == null) {
            return false;
        }
        boolean passwordOk = MessageDigest.isEqual(password.getBytes(StandardCharsets.UTF_8), adminPassword);
        return passwordOk && user.equals(adminUser);
    }

    /** The urlencoded form of a POST (UTF-8, as Carbon's character-encoding filter sets); null when unusable. */
    private static Map<String, String> form(HttpExchange ex) throws IOException {
        String type = String.valueOf(ex.getRequestHeaders().getFirst("Content-Type"));
        if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
            return null;
        }
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readNBytes(MAX_FORM_BYTES + 1);
        }
        if (body.length > MAX_FORM_BYTES) {
            return null;
        }
        Map<String, String> fields = new HashMap<>();
        for (String pair : new String(body, StandardCharsets.US_ASCII).split("&")) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            try {
                fields.putIfAbsent(URLDecoder.decode(key, StandardCharsets.UTF_8),
                        URLDecoder.decode(value, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                return null;  // a malformed %-escape
            }
        }
        return fields;
    }

    private static String sessionId(HttpExchange ex) {
        for (String header : ex.getRequestHeaders().getOrDefault("Cookie", java.util.List.of())) {
            for (String cookie : header.split(";")) {
                String c = cookie.trim();
                if (c.startsWith(COOKIE + "=")) {
                    return c.substring(COOKIE.length() + 1);
                }
            }
        }
        return null;
    }

    /** 32 upper-case hex characters, like Tomcat's session ids. */
    private String newSessionId() {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return HexFormat.of().withUpperCase().formatHex(b);
    }

    private static void redirect(HttpExchange ex, String location) throws IOException {
        ex.getResponseHeaders().set("Location", location);
        ex.sendResponseHeaders(302, -1);
    }

    private static void send(HttpExchange ex, int code, String html) throws IOException {
        byte[] bytes = html.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/html; charset=UTF-8");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(code, head ? -1 : bytes.length);
        if (!head) {
            ex.getResponseBody().write(bytes);
        }
    }

    static String html(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
