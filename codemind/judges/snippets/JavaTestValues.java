// The Main that tests model-written Java (judges/java_tests.py): it makes the test's calls of
// the code under test and writes each call's value as a plain-value record, nothing else. The
// test's expected values and comparisons are not here: the judge evaluates them in its own
// process. Records: "\n<RS>CMV k {json}\n" per call k in order, then "\n<RS>CMV end\n".
public class Main {
    private static final java.io.PrintStream OUT = System.out;
    private static final int LIMIT = 1 << 20;

    public static void main(String[] args) throws Exception {
        Solution s = new Solution();
%SETUP%%CALLS%        OUT.print("\n\u001eCMV end\n");
        OUT.flush();
    }

    private static void emit(int k, Object v) {
        String rec;
        try {
            StringBuilder sb = new StringBuilder();
            enc(v, sb, 0);
            rec = sb.toString();
        } catch (Throwable e) {
            StringBuilder sb = new StringBuilder("{\"X\":");
            str(e instanceof NotPlain ? e.getMessage() : "unstable", sb);
            rec = sb.append('}').toString();
        }
        OUT.print("\n\u001eCMV " + k + " " + rec + "\n");
        OUT.flush();
    }

    private static void raised(int k, Throwable t) {
        StringBuilder sb = new StringBuilder("{\"raise\":");
        str(t.getClass().getName(), sb);
        OUT.print("\n\u001eCMV " + k + " " + sb.append('}') + "\n");
        OUT.flush();
    }

    private static final class NotPlain extends RuntimeException {
        NotPlain(String what) { super(what, null, false, false); }
    }

    private static void enc(Object v, StringBuilder sb, int depth) {
        if (depth > 100 || sb.length() > LIMIT) throw new NotPlain("too deep or too large");
        if (v == null) { sb.append("{\"N\":0}"); return; }
        Class<?> c = v.getClass();
        if (c == Integer.class) sb.append("{\"I\":").append(((Integer) v).intValue()).append('}');
        else if (c == Short.class) sb.append("{\"S\":").append(((Short) v).shortValue()).append('}');
        else if (c == Byte.class) sb.append("{\"B\":").append(((Byte) v).byteValue()).append('}');
        else if (c == Long.class) sb.append("{\"J\":\"").append(((Long) v).longValue()).append("\"}");
        else if (c == Double.class) sb.append("{\"D\":\"").append(Double.toString(((Double) v).doubleValue())).append("\"}");
        else if (c == Float.class) sb.append("{\"F\":\"").append(Float.toString(((Float) v).floatValue())).append("\"}");
        else if (c == Boolean.class) sb.append("{\"Z\":").append(((Boolean) v).booleanValue() ? "true" : "false").append('}');
        else if (c == Character.class) { sb.append("{\"C\":"); str(String.valueOf(((Character) v).charValue()), sb); sb.append('}'); }
        else if (c == String.class) { sb.append("{\"s\":"); str((String) v, sb); sb.append('}'); }
        else if (c == java.util.Optional.class) {
            java.util.Optional<?> o = (java.util.Optional<?>) v;
            sb.append("{\"O\":[");
            if (o.isPresent()) enc(o.get(), sb, depth + 1);
            sb.append("]}");
        }
        else if (c == int[].class) { int[] a = (int[]) v; Object[] b = new Object[a.length]; for (int i = 0; i < a.length; i++) b[i] = a[i]; array("int", b, sb, depth); }
        else if (c == long[].class) { long[] a = (long[]) v; Object[] b = new Object[a.length]; for (int i = 0; i < a.length; i++) b[i] = a[i]; array("long", b, sb, depth); }
        else if (c == double[].class) { double[] a = (double[]) v; Object[] b = new Object[a.length]; for (int i = 0; i < a.length; i++) b[i] = a[i]; array("double", b, sb, depth); }
        else if (c == boolean[].class) { boolean[] a = (boolean[]) v; Object[] b = new Object[a.length]; for (int i = 0; i < a.length; i++) b[i] = a[i]; array("boolean", b, sb, depth); }
        else if (c == char[].class) { char[] a = (char[]) v; Object[] b = new Object[a.length]; for (int i = 0; i < a.length; i++) b[i] = a[i]; array("char", b, sb, depth); }
        else if (c == String[].class || c == Integer[].class || c == Object[].class) array(c.getComponentType().getName(), ((Object[]) v).clone(), sb, depth);
        else if (c.getClassLoader() == null && c.getName().startsWith("java.util.") && v instanceof java.util.List) seq("L", ((java.util.List<?>) v).toArray(), sb, depth);
        else if (c.getClassLoader() == null && c.getName().startsWith("java.util.") && v instanceof java.util.Set) seq("Set", ((java.util.Set<?>) v).toArray(), sb, depth);
        else if (c.getClassLoader() == null && c.getName().startsWith("java.util.") && v instanceof java.util.Map) {
            sb.append("{\"M\":[");
            boolean first = true;
            for (Object e : ((java.util.Map<?, ?>) v).entrySet().toArray()) {
                java.util.Map.Entry<?, ?> en = (java.util.Map.Entry<?, ?>) e;
                if (!first) sb.append(',');
                first = false;
                sb.append('[');
                enc(en.getKey(), sb, depth + 1);
                sb.append(',');
                enc(en.getValue(), sb, depth + 1);
                sb.append(']');
            }
            sb.append("]}");
        }
        else throw new NotPlain(c.getName());
    }

    private static void seq(String tag, Object[] items, StringBuilder sb, int depth) {
        sb.append("{\"").append(tag).append("\":[");
        for (int i = 0; i < items.length; i++) {
            if (i > 0) sb.append(',');
            enc(items[i], sb, depth + 1);
        }
        sb.append("]}");
    }

    private static void array(String component, Object[] items, StringBuilder sb, int depth) {
        sb.append("{\"A\":[");
        str(component, sb);
        sb.append(",[");
        for (int i = 0; i < items.length; i++) {
            if (i > 0) sb.append(',');
            enc(items[i], sb, depth + 1);
        }
        sb.append("]]}");
    }

    private static void str(String s, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') sb.append(ch);
            else { String h = Integer.toHexString(ch); sb.append("\\u").append("0000", h.length(), 4).append(h); }
        }
        sb.append('"');
    }
}
