
import base64, os, sys, tempfile
d = tempfile.mkdtemp(prefix="cls-")
for rel, b in CLASSES.items():
    p = os.path.join(d, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(base64.b64decode(b))
os.environ["MALLOC_ARENA_MAX"] = "2"
try:
    sys.stdout.flush(); sys.stderr.flush()
except Exception:
    pass
os.execvp("java", ["java", *FLAGS, "-cp", d, MAIN])
