package org.xbill.DNS;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** A records of a host, asked of the same name servers as the SRV lookup. */
public final class Address {
    private Address() {
    }

    public static InetAddress[] getAllByName(String host, ExtendedResolver resolver) throws UnknownHostException {
        Lookup lookup = new Lookup(host, Type.A);
        lookup.setResolver(resolver);
        Record[] records = lookup.run();
        if (lookup.getResult() != Lookup.SUCCESSFUL) {
            throw new UnknownHostException(host + ": " + lookup.getErrorString());
        }
        InetAddress[] out = new InetAddress[records.length];
        for (int i = 0; i < records.length; i++) {
            // A literal address: no further lookup.
            out[i] = InetAddress.getByName(records[i].rdataToString().trim());
        }
        return out;
    }
}
