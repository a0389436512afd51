package cmrun;

import java.io.*;
import java.lang.reflect.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.security.*;
import java.util.*;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * Runs many compiled programs in one warm JVM, each in a fresh class loader and thread group with
 * its own stdin/stdout/stderr, and prints one JSON line per program on the real stdout.
 *
 * A program's result is only answered here if nothing it did can reach another program:
 * <ul>
 * <li>The JDK's own sandbox: a Policy gives the JDK and this class AllPermission and the
 *     programs' code only property reads (plus reading their class files). Whatever a program
 *     is denied (stdio or default locale/time zone/property changes, file or descriptor writes,
 *     setAccessible, shutdown hooks, exec, network, threads outside its group, ...) marks it
 *     as having touched JVM-wide state.</li>
 * <li>Its captured streams only take output from, and give input to, its own thread group.</li>
 * <li>After it ends: its thread group is empty (daemon threads included), no other thread was
 *     started anywhere in the JVM, the common ForkJoinPool is idle, and the default locale,
 *     time zone, system properties, System.in/out/err and uncaught-exception handler are what
 *     they were.</li>
 * </ul>
 * Otherwise (or on a timeout, OutOfMemoryError, output cap, exit from another thread) it is
 * answered "fallback" and the JVM halts: the host runs it, one JVM per program, where nothing
 * is shared. Result lines are written only by the main thread, on a stream made before any
 * program ran and never reachable from one.
 */
public final class BatchMain {
    /** Thrown by System.exit in a program: its main thread unwinds instead of the JVM ending. */
    static final class ExitTrap extends SecurityException {
        ExitTrap(int s) { super("System.exit(" + s + ")"); }
    }

    static final class OutputLimit extends Error {
        OutputLimit() { super("output limit"); }
    }

    /** A program's stdout or stderr: capped, and taking bytes only from its program's threads
     * while that program runs (owner null: from nobody). */
    static final class Capped extends OutputStream {
        final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        final int cap;
        final ThreadGroup owner;
        volatile boolean over;
        int mark = -1; // bytes written when the program called System.exit

        Capped(int cap, ThreadGroup owner) { this.cap = cap; this.owner = owner; }

        @Override public synchronized void write(int b) {
            if (!own(owner, "write to System.out/err")) return;
            check(1);
            buf.write(b);
        }

        @Override public synchronized void write(byte[] b, int off, int len) {
            Objects.checkFromIndexSize(off, len, b.length);
            if (!own(owner, "write to System.out/err")) return;
            check(len);
            buf.write(b, off, len);
        }

        void check(int n) { if (buf.size() + n > cap) { over = true; throw new OutputLimit(); } }

        synchronized void markExit() { if (mark < 0) mark = buf.size(); }

        synchronized String text() {
            byte[] b = buf.toByteArray();
            return new String(b, 0, mark < 0 ? b.length : mark, StandardCharsets.UTF_8);
        }
    }

    /** A program's stdin: bytes go only to its program's threads while that program runs. */
    static final class GuardedIn extends InputStream {
        final byte[] data;
        final ThreadGroup owner;
        int pos;

        GuardedIn(byte[] data, ThreadGroup owner) { this.data = data; this.owner = owner; }

        @Override public synchronized int read() {
            if (!own(owner, "read from System.in") || pos >= data.length) return -1;
            return data[pos++] & 0xff;
        }

        @Override public synchronized int read(byte[] b, int off, int len) {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) return 0;
            if (!own(owner, "read from System.in") || pos >= data.length) return -1;
            int n = Math.min(len, data.length - pos);
            System.arraycopy(data, pos, b, off, n);
            pos += n;
            return n;
        }

        @Override public synchronized long skip(long n) {
            if (!own(owner, "read from System.in") || n <= 0) return 0;
            int k = (int) Math.min(n, data.length - pos);
            pos += k;
            return k;
        }

        @Override public synchronized int available() {
            return own(owner, "read from System.in") ? data.length - pos : 0;
        }
    }

    /** The JDK packages programs may use here. Their JVM-wide state is guarded by a permission or
     * checked after each program (default locale/time zone, properties, stdio, threads, common
     * pool); java.net's unguarded defaults only matter to connections, which no program may open,
     * and java.security is all guarded (BatchPolicy itself resolves classes of both, with a program
     * on the stack). Other packages (java.awt, java.sql, java.util.logging, javax.*, ...) hold
     * registries a program could change without a permission: using them means a JVM of its own. */
    static final Set<String> PACKAGES = Set.of("java.net", "java.security",
            "java.lang", "java.lang.annotation", "java.lang.constant", "java.lang.invoke", "java.lang.ref",
            "java.lang.reflect", "java.lang.runtime", "java.io", "java.math", "java.nio", "java.nio.charset",
            "java.nio.file", "java.text", "java.time", "java.time.chrono", "java.time.format", "java.time.temporal",
            "java.util", "java.util.concurrent", "java.util.concurrent.atomic", "java.util.concurrent.locks",
            "java.util.function", "java.util.random", "java.util.regex", "java.util.stream");

    /** The JDK's stack inspection, recording what a program is denied, threads confined to the
     * program's own thread group, and JDK packages limited to PACKAGES. */
    static final class Guard extends SecurityManager {
        static final Permission MODIFY_THREAD = new RuntimePermission("modifyThread");
        static final Permission MODIFY_THREAD_GROUP = new RuntimePermission("modifyThreadGroup");

        @Override public void checkPermission(Permission p) {
            try {
                super.checkPermission(p);
            } catch (SecurityException e) {
                touch(p);
                throw e;
            }
        }

        @Override public void checkPermission(Permission p, Object context) {
            try {
                super.checkPermission(p, context);
            } catch (SecurityException e) {
                touch(p);
                throw e;
            }
        }

        /** Called by the JVM whenever code resolves a class of a package (for a program: by name,
         * reflection or method handles included), with that code's protection domain. */
        @Override public void checkPackageAccess(String pkg) {
            super.checkPackageAccess(pkg);
            // cmrun: the app class loader checks this when BatchMain loads a class of its own with a
            // program on the stack; no program's class loader can see cmrun.
            if (!PACKAGES.contains(pkg) && !isProgramPackage(pkg) && !"cmrun".equals(pkg))
                checkPermission(new RuntimePermission("accessClassInPackage.".concat(pkg)));
        }

        /** cm<N>, where run_java puts each program. */
        static boolean isProgramPackage(String pkg) {
            if (pkg.length() < 3 || !pkg.startsWith("cm")) return false;
            for (int i = 2; i < pkg.length(); i++) if (pkg.charAt(i) < '0' || pkg.charAt(i) > '9') return false;
            return true;
        }

        @Override public void checkAccess(Thread t) {
            if (!inProgram(t.getThreadGroup())) checkPermission(MODIFY_THREAD);
        }

        @Override public void checkAccess(ThreadGroup g) {
            if (!inProgram(g)) checkPermission(MODIFY_THREAD_GROUP);
        }

        /** True when the caller and the target both belong to the running program's group. */
        static boolean inProgram(ThreadGroup target) {
            ThreadGroup g = current;
            return g != null && target != null && g.parentOf(target) && g.parentOf(Thread.currentThread().getThreadGroup());
        }

        @Override public void checkExit(int status) {
            if (leaving) return;
            Thread me = Thread.currentThread();
            if (me == programMain && exitStatus == null) {
                exitStatus = status;
                Capped o = curOut, e = curErr;
                if (o != null) o.markExit();
                if (e != null) e.markExit();
            } else if (me != programMain) {
                touch("System.exit from a thread other than main");
            }
            throw new ExitTrap(status);
        }
    }

    /** AllPermission for the JDK and BatchMain; for programs, reading system properties only
     * (their class loader adds reading their own class files). */
    static final class BatchPolicy extends Policy {
        final ProtectionDomain self = BatchMain.class.getProtectionDomain();
        final ClassLoader app = BatchMain.class.getClassLoader(), platform = ClassLoader.getPlatformClassLoader();
        final Permissions programs = new Permissions();

        BatchPolicy() {
            programs.add(new PropertyPermission("*", "read"));
            programs.setReadOnly();
        }

        boolean trusted(ProtectionDomain pd) {
            if (pd == self) return true;
            ClassLoader l = pd.getClassLoader();
            if (l == null || l == platform) return true;
            if (l != app) return false; // a program's loader, or one it made
            CodeSource cs = pd.getCodeSource();
            URL u = cs == null ? null : cs.getLocation();
            return u != null && "jrt".equals(u.getProtocol()); // JDK modules the app loader defines
        }

        @Override public boolean implies(ProtectionDomain pd, Permission p) {
            return trusted(pd) || programs.implies(p);
        }

        @Override public PermissionCollection getPermissions(ProtectionDomain pd) {
            Permissions ps = new Permissions();
            if (trusted(pd)) ps.add(new AllPermission());
            else ps.add(new PropertyPermission("*", "read"));
            return ps;
        }

        @Override public PermissionCollection getPermissions(CodeSource cs) { return new Permissions(); }
    }

    static volatile boolean leaving = false, started = false;
    static volatile ThreadGroup current = null; // the running program's group; null between programs
    static volatile Thread programMain = null;
    static volatile Integer exitStatus = null;
    static volatile Capped curOut = null, curErr = null;
    static volatile Object touched = null; // the first thing a program did that reaches JVM-wide state

    /** Records the first reach for JVM-wide state (described later, by BatchMain's main thread). */
    static void touch(Object why) {
        if (touched != null) return;
        // a Permission class of a program's is not kept: describing it would run the program's code
        touched = why instanceof Permission && !why.getClass().getModule().isNamed() ? "a permission of its own making" : why;
    }

    /** True when the calling thread belongs to owner, the running program; otherwise records why not. */
    static boolean own(ThreadGroup owner, String what) {
        ThreadGroup tg = Thread.currentThread().getThreadGroup();
        if (owner != null && owner == current && tg != null && owner.parentOf(tg)) return true;
        touch(what.concat(" from thread ").concat(Thread.currentThread().getName()));
        return false;
    }

    // JVM-wide state as it was before the first program
    static Locale locale0, format0, display0;
    static TimeZone tz0;
    static Properties props0;
    static Map<Object, Object> propsCopy;
    static Set<Thread> threads0;
    static int threadNumber0 = -1;
    static Field threadInitNumber;
    static ThreadGroup root;
    static Guard guard;
    static BatchPolicy policy;
    static final InputStream NO_IN = new GuardedIn(new byte[0], null);
    static PrintStream sink;

    public static void main(String[] args) throws Exception {
        if (started) throw new IllegalStateException("BatchMain already running");
        started = true;
        File progs = new File(args[0]);
        URL[] urls = { progs.toURI().toURL() };
        DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(args[1])));
        PrintStream realOut = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        sink = new PrintStream(new Capped(0, null), true, "UTF-8");
        System.setIn(NO_IN);
        System.setOut(sink);
        System.setErr(sink);
        warmUp();
        for (Class<?> c : BatchMain.class.getDeclaredClasses()) Class.forName(c.getName()); // none loads under the Guard
        policy = new BatchPolicy();
        Policy.setPolicy(policy);
        guard = new Guard();
        System.setSecurityManager(guard);
        ForkJoinPool.commonPool(); // made under the SecurityManager: innocuous workers, outside program groups
        locale0 = Locale.getDefault();
        format0 = Locale.getDefault(Locale.Category.FORMAT);
        display0 = Locale.getDefault(Locale.Category.DISPLAY);
        tz0 = TimeZone.getDefault();
        props0 = System.getProperties();
        propsCopy = new HashMap<>(props0);
        root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) root = root.getParent();
        threadNumber0 = setThreadNumber(-1);
        threads0 = Collections.newSetFromMap(new IdentityHashMap<>());
        threads0.addAll(allThreads());
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

    /** Initialises, before the first program, what the JDK sets up lazily and JVM-wide (the
     * default time zone writes user.timezone; formatting loads locale data), so that a program
     * is not blamed for it. */
    static void warmUp() {
        TimeZone.getDefault();
        String.format("%.2f %d %s %e %tY", 1.5, 1, "x", 1e10, new Date(0));
        new Scanner("1 2.5 x\n").nextInt();
        new java.math.BigDecimal("1.5").toString();
        java.time.LocalDate.of(2020, 1, 1).toString();
        Locale.getDefault(Locale.Category.FORMAT);
        Locale.getDefault(Locale.Category.DISPLAY);
    }

    /** Unnamed threads are numbered JVM-wide ("Thread-3"): each program starts from where a JVM
     * of its own would. Returns the number before; -1 leaves it (and -1 if it cannot be read). */
    static int setThreadNumber(int n) {
        try {
            if (threadInitNumber == null) {
                threadInitNumber = Thread.class.getDeclaredField("threadInitNumber");
                threadInitNumber.setAccessible(true);
            }
            synchronized (Thread.class) { // Thread.nextThreadNum() is static synchronized
                int before = threadInitNumber.getInt(null);
                if (n >= 0) threadInitNumber.setInt(null, n);
                return before;
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }

    /** The live threads of g and its subgroups. (Not activeCount(): a program's ThreadGroup
     * subclass could override it, and run its code here, to hide its threads.) */
    static Thread[] threadsOf(ThreadGroup g) {
        Thread[] ts = new Thread[64];
        int k;
        while ((k = g.enumerate(ts, true)) == ts.length) ts = new Thread[2 * ts.length];
        return Arrays.copyOf(ts, k);
    }

    static List<Thread> allThreads() {
        List<Thread> out = new ArrayList<>();
        for (Thread t : threadsOf(root)) if (t.isAlive()) out.add(t);
        return out;
    }

    /** Why the JVM is no longer as it was before the first program (restoring what can be), or null. */
    static String stateChanged(InputStream pi, PrintStream po, PrintStream pe) {
        String why = null;
        if (System.in != pi || System.out != po || System.err != pe) why = "System.in/out/err replaced";
        if (!Locale.getDefault().equals(locale0) || !Locale.getDefault(Locale.Category.FORMAT).equals(format0)
                || !Locale.getDefault(Locale.Category.DISPLAY).equals(display0)) {
            why = "default Locale";
            Locale.setDefault(locale0);
            Locale.setDefault(Locale.Category.FORMAT, format0);
            Locale.setDefault(Locale.Category.DISPLAY, display0);
        }
        TimeZone tz = TimeZone.getDefault();
        if (!tz.getID().equals(tz0.getID()) || !tz.hasSameRules(tz0)) {
            why = "default TimeZone";
            TimeZone.setDefault(tz0);
        }
        Properties p = System.getProperties();
        if (p != props0 || !p.equals(propsCopy)) {
            why = "system properties";
            props0.clear();
            props0.putAll(propsCopy);
            System.setProperties(props0);
        }
        if (Thread.getDefaultUncaughtExceptionHandler() != null) {
            why = "default uncaught-exception handler";
            Thread.setDefaultUncaughtExceptionHandler(null);
        }
        if (System.getSecurityManager() != guard || Policy.getPolicy() != policy) why = "SecurityManager or Policy";
        ForkJoinPool cp = ForkJoinPool.commonPool();
        if (cp.getActiveThreadCount() != 0 || cp.getQueuedSubmissionCount() != 0 || cp.getQueuedTaskCount() != 0)
            why = "common ForkJoinPool busy";
        for (Thread t : allThreads()) {
            if (threads0.contains(t)) continue;
            if (t instanceof ForkJoinWorkerThread && t.getClass().getClassLoader() == null
                    && ((ForkJoinWorkerThread) t).getPool() == cp) continue; // the JDK's, idle (checked above)
            why = "thread left running: " + t.getName();
        }
        return why;
    }

    static String runOne(URL[] urls, String main, byte[] stdin, long timeoutMs, int cap, long stack, String id)
            throws Exception {
        ThreadGroup group = new ThreadGroup("main");
        Capped out = new Capped(cap, group), err = new Capped(cap, group);
        PrintStream po = new PrintStream(out, true, "UTF-8"), pe = new PrintStream(err, true, "UTF-8");
        GuardedIn pi = new GuardedIn(stdin, group);
        URLClassLoader loader = new URLClassLoader(urls, BatchMain.class.getClassLoader().getParent());
        final String[] failed = { null }; // why the program's own end needs a JVM of its own, if it does
        final boolean[] threw = { false };
        exitStatus = null;
        curOut = out;
        curErr = err;
        System.setIn(pi);
        System.setOut(po);
        System.setErr(pe);
        // Everything that touches the program's objects (its exception included) runs in its own
        // thread: BatchMain's main thread never calls program code.
        Thread t = new Thread(group, () -> {
            Throwable e;
            try {
                Class<?> c = Class.forName(main, true, loader);
                Method m = c.getMethod("main", String[].class);
                m.setAccessible(true);
                m.invoke(null, (Object) new String[0]);
                return;
            } catch (InvocationTargetException x) {
                e = x.getCause();
            } catch (ExceptionInInitializerError x) {
                e = x;
            } catch (Throwable x) {
                failed[0] = "batch: " + x;
                return;
            }
            try {
                threw[0] = true;
                if (exitStatus != null) return;
                for (Throwable x = e; x != null; x = x.getCause())
                    if (x instanceof VirtualMachineError && !(x instanceof StackOverflowError) || x instanceof OutputLimit
                            || x instanceof ThreadDeath) { failed[0] = x.getClass().getSimpleName(); return; }
                // what the JVM prints for an uncaught exception in main, without the frames of the reflective call
                StackTraceElement[] st = e.getStackTrace();
                int keep = 0;
                while (keep < st.length && !st[keep].getClassName().startsWith("jdk.internal.reflect.")
                        && !st[keep].getClassName().startsWith("java.lang.reflect.")) keep++;
                e.setStackTrace(Arrays.copyOf(st, keep));
                pe.print("Exception in thread \"main\" ");
                e.printStackTrace(pe);
            } catch (Throwable x) {
                if (failed[0] == null) failed[0] = "uncaught exception report: " + x.getClass().getName();
            }
        }, "main", stack);
        t.setContextClassLoader(loader);
        programMain = t;
        setThreadNumber(threadNumber0);
        current = group;
        long t0 = System.nanoTime();
        t.start();
        t.join(timeoutMs);
        String verdict = null;
        if (t.isAlive()) verdict = "timeout";
        // like the JVM: wait for the program's other non-daemon threads
        while (verdict == null && exitStatus == null) { // after System.exit nothing else would have run
            Thread live = null;
            for (Thread x : threadsOf(group)) if (x.isAlive() && !x.isDaemon() && x != t) { live = x; break; }
            if (live == null) break;
            long left = timeoutMs - (System.nanoTime() - t0) / 1_000_000;
            if (left <= 0) { verdict = "timeout"; break; }
            live.join(left);
        }
        long wallNs = System.nanoTime() - t0;
        if (verdict == null && threadsOf(group).length > 0) verdict = "threads";
        if (verdict != null) // its threads still run: stop here
            return fallback(id, touched != null ? "touched JVM-wide state: " + describe(touched) : verdict);
        current = null; // from here on, nothing the program left behind may use its streams
        programMain = null;
        String changed = stateChanged(pi, po, pe);
        System.setIn(NO_IN);
        System.setOut(sink);
        System.setErr(sink);
        curOut = curErr = null;
        Object why = touched;
        if (why != null) verdict = "touched JVM-wide state: " + describe(why);
        else if (changed != null) verdict = "touched JVM-wide state: " + changed;
        else if (out.over || err.over) verdict = "output";
        else if (exitStatus == null && failed[0] != null) verdict = failed[0];
        if (verdict != null) return fallback(id, verdict);
        // after System.exit: what it printed before, as if the JVM had ended there
        int code = exitStatus != null ? exitStatus : threw[0] ? 1 : 0;
        try { loader.close(); } catch (IOException ignored) {}
        return "{\"id\":" + q(id) + ",\"exit\":" + code + ",\"wall\":" + (wallNs / 1e9) + ",\"stdout\":" + q(out.text())
                + ",\"stderr\":" + q(err.text()) + "}";
    }

    static String fallback(String id, String why) {
        return "{\"id\":" + q(id) + ",\"fallback\":" + q(why) + "}";
    }

    static String describe(Object why) {
        if (why instanceof Permission) {
            Permission p = (Permission) why;
            return p.getClass().getName() + " " + p.getName() + (p.getActions().isEmpty() ? "" : " " + p.getActions());
        }
        return String.valueOf(why);
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
