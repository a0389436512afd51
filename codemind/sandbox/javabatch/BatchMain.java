package cmrun;

import java.io.*;
import java.lang.reflect.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.security.Permission;

/** Runs many compiled programs in one warm JVM, each in a fresh class loader with its own
 * stdin/stdout/stderr. Prints one JSON line per finished program. Anything unusual
 * (timeout, OutOfMemoryError, threads left running, exit from another thread, output cap)
 * prints a "fallback" line and ends the JVM: the host runs the rest one JVM per program. */
public final class BatchMain {
    static final class ExitTrap extends SecurityException {
        final int status;
        ExitTrap(int s) { super("System.exit(" + s + ")"); status = s; }
    }
    static final class OutputLimit extends Error {
        OutputLimit() { super("output limit"); }
    }
    static final class Capped extends OutputStream {
        final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        final int cap; volatile boolean over;
        Capped(int cap) { this.cap = cap; }
        @Override public synchronized void write(int b) { check(1); buf.write(b); }
        @Override public synchronized void write(byte[] b, int off, int len) { check(len); buf.write(b, off, len); }
        void check(int n) { if (buf.size() + n > cap) { over = true; throw new OutputLimit(); } }
        String text() { return new String(buf.toByteArray(), StandardCharsets.UTF_8); }
    }
    static volatile boolean leaving = false;
    static volatile Thread programMain = null;
    static volatile int otherThreadExit = Integer.MIN_VALUE;

    public static void main(String[] args) throws Exception {
        File progs = new File(args[0]);
        URL[] urls = { progs.toURI().toURL() };
        DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(args[1])));
        PrintStream realOut = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        System.setSecurityManager(new SecurityManager() {
            @Override public void checkPermission(Permission p) {
                if (p instanceof RuntimePermission && "setSecurityManager".equals(p.getName()) && !leaving)
                    throw new SecurityException("setSecurityManager");
            }
            @Override public void checkPermission(Permission p, Object ctx) { checkPermission(p); }
            @Override public void checkExit(int status) {
                if (leaving) return;
                if (Thread.currentThread() != programMain) otherThreadExit = status;
                throw new ExitTrap(status);
            }
        });
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            String id = in.readUTF(), main = in.readUTF();
            long timeoutMs = in.readLong();
            int cap = in.readInt(), len = in.readInt();
            long stack = in.readLong();
            byte[] stdin = new byte[len];
            in.readFully(stdin);
            String line = runOne(urls, main, stdin, timeoutMs, cap, stack, id);
            realOut.println(line);
            if (line.contains("\"fallback\"")) break;
        }
        leaving = true;
        realOut.flush();
        Runtime.getRuntime().halt(0);
    }

    static String runOne(URL[] urls, String main, byte[] stdin, long timeoutMs, int cap, long stack, String id)
            throws Exception {
        Capped out = new Capped(cap), err = new Capped(cap);
        PrintStream po = new PrintStream(out, true, "UTF-8"), pe = new PrintStream(err, true, "UTF-8");
        URLClassLoader loader = new URLClassLoader(urls, BatchMain.class.getClassLoader().getParent());
        ThreadGroup group = new ThreadGroup("prog-" + id);
        final Throwable[] thrown = { null };
        final int[] exit = { 0 };
        otherThreadExit = Integer.MIN_VALUE;
        System.setIn(new ByteArrayInputStream(stdin));
        System.setOut(po);
        System.setErr(pe);
        long t0 = System.nanoTime();
        Thread t = new Thread(group, () -> {
            try {
                Class<?> c = Class.forName(main, true, loader);
                Method m = c.getMethod("main", String[].class);
                m.setAccessible(true);
                m.invoke(null, (Object) new String[0]);
            } catch (InvocationTargetException e) {
                thrown[0] = e.getCause();
            } catch (ExceptionInInitializerError e) {
                thrown[0] = e;
            } catch (Throwable e) {
                thrown[0] = new LinkageError("batch: " + e);
            }
        }, "main", stack);
        programMain = t;
        t.start();
        t.join(timeoutMs);
        String verdict = null;
        if (t.isAlive()) verdict = "timeout";
        // like the JVM: wait for the program's other non-daemon threads
        while (verdict == null) {
            Thread[] ts = new Thread[group.activeCount() + 4];
            int k = group.enumerate(ts, true);
            Thread live = null;
            for (int j = 0; j < k; j++) if (ts[j].isAlive() && !ts[j].isDaemon() && ts[j] != t) { live = ts[j]; break; }
            if (live == null) break;
            long left = timeoutMs - (System.nanoTime() - t0) / 1_000_000;
            if (left <= 0) { verdict = "timeout"; break; }
            live.join(left);
        }
        long wallNs = System.nanoTime() - t0;
        po.flush(); pe.flush();
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.out), true));
        System.setErr(new PrintStream(new FileOutputStream(FileDescriptor.err), true));
        Throwable e = thrown[0];
        if (verdict == null && group.activeCount() > 0) verdict = "threads";
        if (verdict == null && (out.over || err.over)) verdict = "output";
        if (verdict == null && otherThreadExit != Integer.MIN_VALUE) verdict = "exit_other_thread";
        if (verdict == null && e != null) {
            for (Throwable x = e; x != null; x = x.getCause())
                if (x instanceof VirtualMachineError || x instanceof OutputLimit || x instanceof ThreadDeath
                        || x instanceof LinkageError && String.valueOf(x.getMessage()).startsWith("batch: "))
                    { if (!(x instanceof StackOverflowError)) verdict = x.getClass().getSimpleName(); }
        }
        if (verdict != null) return "{\"id\":" + q(id) + ",\"fallback\":" + q(verdict) + "}";
        int code = 0;
        if (e instanceof ExitTrap) {
            code = ((ExitTrap) e).status;
        } else if (e != null) {
            StackTraceElement[] st = e.getStackTrace();
            int keep = 0;
            while (keep < st.length && !st[keep].getClassName().startsWith("jdk.internal.reflect.")
                    && !st[keep].getClassName().startsWith("java.lang.reflect.")) keep++;
            e.setStackTrace(java.util.Arrays.copyOf(st, keep));
            StringWriter sw = new StringWriter();
            sw.write("Exception in thread \"main\" ");
            e.printStackTrace(new PrintWriter(sw));
            try { pe.print(sw); pe.flush(); } catch (OutputLimit ol) { return "{\"id\":" + q(id) + ",\"fallback\":\"output\"}"; }
            code = 1;
        }
        try { loader.close(); } catch (IOException ignored) {}
        return "{\"id\":" + q(id) + ",\"exit\":" + code + ",\"wall\":" + (wallNs / 1e9) + ",\"stdout\":" + q(out.text())
                + ",\"stderr\":" + q(err.text()) + "}";
    }

    static String q(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20 || (c >= 0xD800 && c <= 0xDFFF)) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
