package org.xbill.DNS;

/** SRV: "priority weight port target". */
public class SRVRecord extends Record {
    SRVRecord(String name, String data) {
        super(name, Type.SRV, data);
    }

    private String field(int i) {
        String[] f = data.trim().split("\\s+");
        if (f.length != 4) {
            throw new IllegalStateException("malformed SRV record: " + data);
        }
        return f[i];
    }

    public int getPort() {
        return Integer.parseInt(field(2));
    }

    /** The target host name, absolute, without the trailing dot. */
    public String getTarget() {
        String t = field(3);
        return t.endsWith(".") ? t.substring(0, t.length() - 1) : t;
    }
}
