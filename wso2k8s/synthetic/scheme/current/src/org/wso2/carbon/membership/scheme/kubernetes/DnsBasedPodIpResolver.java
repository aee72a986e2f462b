package org.wso2.carbon.membership.scheme.kubernetes;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.wso2.carbon.synthetic.MembershipScheme;
import org.xbill.DNS.Address;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Record;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Type;

/**
 * DNS mode (USE_DNS=true, the real scheme's default): an SRV lookup of <service>.<namespace>.svc.cluster.local
 * through dnsjava (org.xbill.DNS, a separate jar in repository/components/lib), then the A records of each
 * target. A headless Service (clusterIP None) answers with one target per pod.
 */
final class DnsBasedPodIpResolver {
    private final String namespace;
    private final List<String> services;
    private final MembershipScheme.Log log;
    private final int timeoutSeconds;

    DnsBasedPodIpResolver(Map<String, String> params, String namespace, List<String> services,
                          MembershipScheme.Log log) throws Exception {
        this.namespace = namespace;
        this.services = services;
        this.log = log;
        this.timeoutSeconds = Integer.parseInt(Constants.value(params, Constants.DNS_LOOKUP_TIMEOUT, "10"));
        // dnsjava is needed from here on: without its jar this fails as the real scheme does.
        new ExtendedResolver();
    }

    List<String> names() {
        List<String> out = new ArrayList<>();
        for (String s : services) {
            out.add(s.trim() + "." + namespace + ".svc.cluster.local");
        }
        return out;
    }

    Set<String> resolve() throws Exception {
        Set<String> ips = new TreeSet<>();
        for (String name : names()) {
            ExtendedResolver resolver = new ExtendedResolver();
            resolver.setTimeout(timeoutSeconds);
            Lookup lookup = new Lookup(name, Type.SRV);
            lookup.setResolver(resolver);
            Record[] records = lookup.run();
            if (lookup.getResult() != Lookup.SUCCESSFUL) {
                throw new Exception("DNS lookup for name '" + name + "' failed: " + lookup.getErrorString()
                        + " (is the headless Service created, and is cluster DNS reachable?)");
            }
            for (Record record : records) {
                SRVRecord srv = (SRVRecord) record;
                for (InetAddress address : Address.getAllByName(srv.getTarget(), resolver)) {
                    ips.add(address.getHostAddress());
                }
            }
        }
        return ips;
    }
}
