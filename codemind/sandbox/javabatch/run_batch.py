
import base64, os, sys, tempfile
d = tempfile.mkdtemp(prefix="batch-")
for sub, classes in (("rt", RUNTIME), ("progs", PROGRAMS)):
    for rel, b in classes.items():
        p = os.path.join(d, sub, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(base64.b64decode(b))
with open(os.path.join(d, "req"), "wb") as f:
    f.write(base64.b64decode(REQUEST))
os.environ["MALLOC_ARENA_MAX"] = "2"
sys.stdout.flush(); sys.stderr.flush()
# VM messages (warnings, thread dumps) go to stderr: stdout carries only BatchMain's lines
os.execvp("java", ["java", *FLAGS, "-Djava.security.manager=allow", "-XX:+DisplayVMOutputToStderr",
                   "-cp", os.path.join(d, "rt"), "cmrun.BatchMain", os.path.join(d, "progs"), os.path.join(d, "req")])
