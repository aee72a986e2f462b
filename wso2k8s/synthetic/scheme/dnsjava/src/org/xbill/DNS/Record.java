package org.xbill.DNS;

/** A resource record: owner name, type and its data as the JDK's DNS provider prints it. */
public class Record {
    private final String name;
    private final int type;
    final String data;

    Record(String name, int type, String data) {
        this.name = name;
        this.type = type;
        this.data = data;
    }

    public String getName() {
        return name;
    }

    public int getType() {
        return type;
    }

    public String rdataToString() {
        return data;
    }
}
