package org.xbill.DNS;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import javax.naming.Context;
import javax.naming.NameNotFoundException;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.Attributes;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;

/** One query (synthetic dnsjava: same class and result codes as org.xbill.DNS.Lookup). */
public final class Lookup {
    public static final int SUCCESSFUL = 0;
    public static final int UNRECOVERABLE = 1;
    public static final int TRY_AGAIN = 2;
    public static final int HOST_NOT_FOUND = 3;
    public static final int TYPE_NOT_FOUND = 4;

    private final String name;
    private final int type;
    private ExtendedResolver resolver = new ExtendedResolver();
    private int result = -1;
    private String error = "not run";

    public Lookup(String name, int type) {
        this.name = name;
        this.type = type;
    }

    public void setResolver(ExtendedResolver resolver) {
        this.resolver = resolver;
    }

    public int getResult() {
        return result;
    }

    public String getErrorString() {
        return error;
    }

    public Record[] run() {
        Hashtable<String, String> env = new Hashtable<>();
        env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
        String url = resolver.providerUrl();
        if (url != null) {
            env.put(Context.PROVIDER_URL, url);
        }
        env.put("com.sun.jndi.dns.timeout.initial", String.valueOf(Math.max(1, resolver.timeoutSeconds()) * 1000));
        env.put("com.sun.jndi.dns.timeout.retries", "1");
        List<Record> out = new ArrayList<>();
        DirContext ctx = null;
        try {
            ctx = new InitialDirContext(env);
            Attributes attrs = ctx.getAttributes(name, new String[] {Type.string(type)});
            Attribute a = attrs.get(Type.string(type));
            if (a == null || a.size() == 0) {
                result = TYPE_NOT_FOUND;
                error = "type not found";
                return null;
            }
            NamingEnumeration<?> values = a.getAll();
            while (values.hasMore()) {
                String data = String.valueOf(values.next());
                out.add(type == Type.SRV ? new SRVRecord(name, data) : new Record(name, type, data));
            }
        } catch (NameNotFoundException e) {
            result = HOST_NOT_FOUND;
            error = "host not found";
            return null;
        } catch (NamingException e) {
            result = TRY_AGAIN;
            error = "try again (" + e + ")";
            return null;
        } finally {
            if (ctx != null) {
                try {
                    ctx.close();
                } catch (NamingException ignored) {
                    // nothing to release
                }
            }
        }
        result = SUCCESSFUL;
        error = "successful";
        return out.toArray(new Record[0]);
    }
}
