
import base64, json, os, re, subprocess, sys, tempfile
req = json.loads(sys.stdin.read())
root = tempfile.mkdtemp(prefix="javac-")
src, out = os.path.join(root, "src"), os.path.join(root, "out")
pending = {}
for rel, text in req["files"].items():
    p = os.path.join(src, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w", encoding="utf-8") as f:
        f.write(text)
    pending[rel.split("/")[0]] = rel
errors = {}
diag = re.compile(r"^(?:.*?/)?src/([^/\s]+)/[^/:\s]+\.java:\d+: (?:error|warning)")
env = dict(os.environ, MALLOC_ARENA_MAX="2")
while pending:
    os.makedirs(out, exist_ok=True)
    cmd = ["javac", *req["flags"], "-d", out, *[os.path.join(src, r) for r in pending.values()]]
    r = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    if r.returncode == 0:
        break
    per, cur, bad = {}, None, set()
    for line in (r.stdout + r.stderr).splitlines():
        m = diag.match(line.replace(root + "/", ""))
        if m:
            cur = m.group(1)
            if ": error" in line:
                bad.add(cur)
        if cur is not None:
            per.setdefault(cur, []).append(line.replace(os.path.join(src, cur) + "/", "").replace("src/" + cur + "/", ""))
    bad &= set(pending)
    if not bad:  # an error no file owns: every remaining program fails with it
        msg = (r.stdout + r.stderr).strip()[-4000:] or f"javac exit {r.returncode}"
        errors.update({k: msg for k in pending})
        pending = {}
        break
    for k in bad:
        msg = "\n".join(x for x in per.get(k, []) if not x.startswith("Note:") and not re.match(r"^\d+ (error|warning)s?$", x))
        errors[k] = msg.replace(f"package {k}; ", "").strip()
        del pending[k]
classes = {}
for k in pending:
    d = os.path.join(out, k)
    files = {}
    for dirpath, _, names in os.walk(d):
        for n in names:
            p = os.path.join(dirpath, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, out)] = base64.b64encode(f.read()).decode()
    classes[k] = files
sys.stdout.write(json.dumps({"classes": classes, "errors": errors}))
