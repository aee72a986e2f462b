package org.xbill.DNS;

/** Record types (synthetic dnsjava: the few the membership scheme uses). */
public final class Type {
    public static final int A = 1;
    public static final int SRV = 33;

    private Type() {
    }

    static String string(int type) {
        return type == A ? "A" : type == SRV ? "SRV" : String.valueOf(type);
    }
}
