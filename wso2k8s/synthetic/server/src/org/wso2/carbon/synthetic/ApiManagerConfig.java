package org.wso2.carbon.synthetic;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * repository/conf/api-manager.xml (API Manager only): the URLs a profile calls the others by. The synthetic
 * server reads them as API Manager does and, on GET /wso2k8s/apim, calls each one that names another server,
 * so a test sees that a gateway worker reaches its key manager where the rendered file says. DataSourceName
 * names the datasource its APIs are kept in (ApiTable).
 */
final class ApiManagerConfig {
    static final String FILE = "repository/conf/api-manager.xml";
    private static final String[][] URLS = {
        {"key_validator", "APIKeyValidator", "ServerURL"},
        {"auth_manager", "AuthManager", "ServerURL"},
        {"gateway", "APIGateway", "Environments", "Environment", "ServerURL"},
        {"gateway_endpoint", "APIGateway", "Environments", "Environment", "GatewayEndpoint"},
        {"revoke", "OAuthConfigurations", "RevokeAPIURL"},
        {"store", "APIStore", "URL"},
    };

    final Map<String, String> urls = new LinkedHashMap<>();
    String dataSource = "";  // <DataSourceName>: the JNDI name of API Manager's own datasource (jdbc/WSO2AM_DB)

    /** Null when the pack has no api-manager.xml (not API Manager). */
    static ApiManagerConfig load(Path home) throws ServerConfig.ConfigException {
        Path file = home.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        Document doc;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            doc = f.newDocumentBuilder().parse(file.toFile());
        } catch (Exception e) {
            throw new ServerConfig.ConfigException(FILE + ": " + e.getMessage());
        }
        ApiManagerConfig c = new ApiManagerConfig();
        Element ds = child(doc.getDocumentElement(), "DataSourceName");
        if (ds != null) {
            c.dataSource = ds.getTextContent().trim();
        }
        for (String[] spec : URLS) {
            Element e = doc.getDocumentElement();
            for (int i = 1; i < spec.length && e != null; i++) {
                e = child(e, spec[i]);
            }
            if (e != null) {
                c.urls.put(spec[0], e.getTextContent().trim());
            }
        }
        return c;
    }

    /** Each URL with what calling it gave: the HTTP status, or the error; ${…} URLs are this server itself. */
    Map<String, Object> probe(SSLContext trust) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).sslContext(trust)
                .sslParameters(noHostnameCheck()).build();
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> u : urls.entrySet()) {
            Map<String, Object> one = new LinkedHashMap<>();
            String url = u.getValue().split(",")[0];  // GatewayEndpoint lists http,https
            one.put("url", u.getValue());
            if (url.contains("${")) {
                one.put("status", "local");
            } else {
                try {
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url))
                            .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
                    one.put("status", r.statusCode());
                    one.put("server", r.headers().firstValue("X-Carbon-Product").orElse(""));
                } catch (Exception e) {
                    one.put("status", e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            }
            out.put(u.getKey(), one);
        }
        return out;
    }

    // Carbon 4.4's clients do not check that a certificate names the host (its default hostname verifier);
    // the certificate itself must still be one the truststore trusts.
    private static SSLParameters noHostnameCheck() {
        SSLParameters p = new SSLParameters();
        p.setEndpointIdentificationAlgorithm(null);
        return p;
    }

    private static Element child(Element parent, String name) {
        NodeList kids = parent.getChildNodes();
        for (int i = 0; i < kids.getLength(); i++) {
            Node n = kids.item(i);
            if (n instanceof Element && name.equals(((Element) n).getTagName())) {
                return (Element) n;
            }
        }
        return null;
    }
}
