"""The Docker sandbox against the real engine: image identity, Python and Java outcomes,
worker replacement, cleanup, and the `codemind sandbox` CLI.

Docker tests skip when no engine/image is ready, except in CI (CI=true), where they fail:
.ci/setup-docker.sh makes the engine ready there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from docker_helpers import need_docker

from codemind.sandbox import image as img
from codemind.sandbox import java as jv
from codemind.schema import ExecJob, Limits

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CODEMIND_DATA", REPO.parent / "shared" / "data"))
CODENET_JAVA = DATA / "codemind" / "paper_v1_2024-02" / "CodeNet-Java"




@pytest.fixture(scope="module")
def sb():
    need_docker()
    from codemind.sandbox.docker import DockerSandbox

    with DockerSandbox(workers=2) as s:
        yield s


def _ours(sandbox) -> list[str]:
    """Ids of this sandbox's containers that still exist."""
    alive = {c.id for c in sandbox.client.containers.list(all=True, filters={"label": "codemind.sandbox=worker"})}
    return [i for i in sandbox._ids if i in alive]


# ---------------------------------------------------------------- no engine needed


def test_image_tag_follows_runner_content(tmp_path, monkeypatch):
    shutil.copytree(img.RUNNER_DIR, tmp_path / "runner", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(img, "RUNNER_DIR", tmp_path / "runner")
    before = img.image_tag()
    assert before.startswith("codemind-sandbox:") and len(before.split(":")[1]) == 12
    (tmp_path / "runner" / "READY").write_text("x")  # helper marker files do not count
    assert img.image_tag() == before
    with open(tmp_path / "runner" / "runner.py", "a") as f:
        f.write("\n# changed\n")
    assert img.image_tag() != before
    assert img.base_tag() == img.base_tag()  # the base depends on the recipe only


def test_apt_mirror_from_deb822_and_one_line_sources(tmp_path):
    d = tmp_path / "etc/apt/sources.list.d"
    d.mkdir(parents=True)
    (d / "debian.sources").write_text(
        "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n"
    )
    assert img.apt_mirror(root=tmp_path) == "http://mirror.example/debian"
    (d / "debian.sources").unlink()
    (tmp_path / "etc/apt/sources.list").write_text("# x\ndeb [arch=amd64] http://old.example/debian bookworm main\n")
    assert img.apt_mirror(root=tmp_path) == "http://old.example/debian"
    (tmp_path / "etc/apt/sources.list").write_text("deb http://old.example/debian bullseye main\n")
    from codemind.errors import UserError

    with pytest.raises(UserError):
        img.apt_mirror(root=tmp_path)


def test_java_prepare_finds_public_and_main_classes():
    src = (
        "import java.util.*;\n// public class Fake {\nclass Helper { void x() { String s = \"class Nope {\"; } }\n"
        "public class Solver { static class Inner {} public static void main(String[] a) {} }\n"
    )
    assert jv.top_level_types(src) == [("Helper", False, False), ("Solver", True, True)]
    u = jv.prepare(src, 7)
    assert (u.pkg, u.path, u.main) == ("cm7", "cm7/Solver.java", "cm7.Solver")
    assert u.text.splitlines()[0].startswith("package cm7; import java.util.*;")  # line numbers kept
    u = jv.prepare("package a.b;\nclass Main { public static void main(String[] x) {} }", 1)
    assert (u.path, u.main) == ("cm1/Main.java", "cm1.Main") and "package a.b" not in u.text
    # no public class: the file is named after the class with main
    u = jv.prepare("class A {}\nclass Prog { public static void main(String[] x) {} }", 2)
    assert (u.path, u.main) == ("cm2/Prog.java", "cm2.Prog")


# ---------------------------------------------------------------- Python in Docker


def test_python_outcomes(sb):
    jobs = [
        ExecJob(source="def f(x):\n    return [x] * 2\n", call="f(3)"),
        ExecJob(source="import sys\nprint(sys.stdin.read()[::-1], end='')", stdin="abc"),
        ExecJob(source="raise KeyError('k')"),
        ExecJob(source="def f(:\n    pass"),
        ExecJob(source="import sys\nsys.exit(3)"),
        ExecJob(source="import os\nprint(os.getuid(), os.getcwd())"),
    ]
    r = sb.run(jobs)
    assert (r[0].status, r[0].return_repr) == ("ok", "[3, 3]")
    assert (r[1].status, r[1].stdout) == ("ok", "cba")
    assert (r[2].status, r[2].exc_type) == ("exception", "KeyError")
    assert r[3].status == "compile_error"
    assert (r[4].status, r[4].exit_code) == ("exception", 3)
    uid, cwd = r[5].stdout.split()
    assert int(uid) >= 10001 and cwd.startswith("/work/")
    assert all(x.runtime == sb.runtime for x in r)


def test_memory_used_up_by_small_objects_is_a_memory_outcome(sb):
    # Address space filled to the last arena by small ints (CodeNet p03154's factorial tables):
    # the child must still report MemoryError, not die inside its own error handling.
    src = ("a = [1] * 8000001\nb = [1] * 8000001\nfor i in range(8000000):\n"
           "    a[i + 1] = (a[i] * (i + 1)) % 1000000007\n    b[i] = a[i + 1] + 1\nprint('done')\n")
    r = sb.run([ExecJob(source=src, limits=Limits(wall_seconds=30, cpu_seconds=30, memory_mb=384))])[0]
    assert (r.status, r.exc_type) == ("memory", "MemoryError"), r
    assert "MemoryError" in r.stderr and r.stdout == ""


def test_identity_names_the_image(sb):
    ident = sb.identity()
    assert ident["kind"] == "docker"
    assert ident["image"].startswith("codemind-sandbox:") and ident["image_id"].startswith("sha256:")
    assert ident["container"]["network"] == "none"


def test_cruxeval_sample_matches_labels(sb, data_dir):
    rows = [json.loads(l) for l in (data_dir / "cruxeval" / "cruxeval.jsonl").read_text().splitlines()[:100]]
    jobs = [ExecJob(source=r["code"], call=f"f({r['input']})") for r in rows]
    done = []
    res = sb.run(jobs, progress=done.append)
    assert sum(done) == len(jobs)
    ok = [x for x in res if x.status == "ok"]
    assert len(ok) == len(rows)
    match = sum(eval(x.return_repr) == eval(r["output"]) for x, r in zip(res, rows))
    assert match >= 98


def test_dead_worker_is_replaced_and_job_retried(sb):
    """Kill a container from outside while it runs a job: the job is retried on a fresh one."""
    victim = list(_ours(sb))
    assert len(victim) == 2

    def kill_soon():
        time.sleep(1.0)
        for cid in victim:
            try:
                sb.client.api.kill(cid)
            except Exception:
                pass

    t = threading.Thread(target=kill_soon)
    t.start()
    r = sb.run([ExecJob(source="import time\ntime.sleep(3)\nprint('done')") for _ in range(2)])
    t.join()
    assert [x.status for x in r] == ["ok", "ok"] and r[0].stdout == "done\n"
    assert not set(victim) & set(_ours(sb))  # the killed containers are gone
    assert len(_ours(sb)) == 2
    assert sb.run([ExecJob(source="print(1)")])[0].stdout == "1\n"


def test_close_removes_containers_and_stale_ones_are_cleaned():
    need_docker()
    from codemind.sandbox.docker import LABEL, DockerSandbox, remove_stale

    s = DockerSandbox(workers=1)
    ids = _ours(s)
    assert len(ids) == 1
    # a container "left by a dead run": our label, a pid that does not exist
    stale = s.client.containers.create(
        s.image, command=["true"], labels={LABEL: "worker", f"{LABEL}.host": "elsewhere", f"{LABEL}.pid": "1"}
    )
    s.close()
    left = {c.id for c in s.client.containers.list(all=True, filters={"label": f"{LABEL}=worker"})}
    assert not set(ids) & left
    assert stale.id in left
    assert remove_stale(s.client) >= 1
    assert stale.id not in {c.id for c in s.client.containers.list(all=True)}


def test_containers_removed_at_interpreter_exit():
    need_docker()
    code = (
        "from codemind.sandbox.docker import DockerSandbox\n"
        "s = DockerSandbox(workers=1)\nprint(s._ids[0], flush=True)\n"
        "import os; os.kill(os.getpid(), 0)\n"  # exits normally without close()
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    cid = out.stdout.strip()
    assert cid, out.stderr
    import docker

    assert cid not in {c.id for c in docker.from_env().containers.list(all=True)}


# ---------------------------------------------------------------- Java in Docker


def test_java_batch_with_one_bad_program(sb):
    good = "public class Hello { public static void main(String[] a) { System.out.println(\"hi \" + new java.util.Scanner(System.in).next()); } }"
    main = "class Main { public static void main(String[] a) { System.out.println(6 * 7); } }"
    bad = "class Main { public static void main(String[] a) { int x = ; } }"
    thrower = "class Main { public static void main(String[] a) { Object o = null; o.hashCode(); } }"
    r = sb.run([
        ExecJob(language="java", source=good, stdin="there\n"),
        ExecJob(language="java", source=bad),
        ExecJob(language="java", source=main),
        ExecJob(language="java", source=thrower),
        ExecJob(language="java", source=good, stdin="again\n"),
        ExecJob(source="print('py')"),
    ])
    assert (r[0].status, r[0].stdout) == ("ok", "hi there\n")
    assert r[1].status == "compile_error" and "Main.java:1: error" in r[1].stderr and "cm" not in r[1].stderr
    assert (r[2].status, r[2].stdout) == ("ok", "42\n")
    assert (r[3].status, r[3].exc_type) == ("exception", "java.lang.NullPointerException")
    assert (r[4].status, r[4].stdout) == ("ok", "hi again\n")
    assert r[5].stdout == "py\n"


def test_java_programs_of_older_jdks_run(sb):
    # Competitive programs run their solver in a thread with a 512 MiB stack (address space the
    # JVM reserves up front) and reflect into JDK internals the way JDK 8/11 allowed.
    deep = ("public class Main implements Runnable {\n"
            "  static int depth(int n) { return n == 0 ? 0 : 1 + depth(n - 1); }\n"
            "  public void run() { System.out.println(depth(1000000)); }\n"
            "  public static void main(String[] a) throws Exception {\n"
            "    Thread t = new Thread(null, new Main(), \"\", 1 << 29); t.start(); t.join(); } }")
    reflect = ("import java.lang.reflect.Field;\n"
               "public class Main { public static void main(String[] a) throws Exception {\n"
               "  Field f = String.class.getDeclaredField(\"value\"); f.setAccessible(true);\n"
               "  Field g = java.io.PrintStream.class.getDeclaredField(\"autoFlush\"); g.setAccessible(true);\n"
               "  System.out.println(((byte[]) f.get(\"abc\")).length); } }")
    limits = Limits(wall_seconds=30, cpu_seconds=20)
    r = sb.run([ExecJob(language="java", source=deep, limits=limits),
                ExecJob(language="java", source=reflect, limits=limits)])
    assert (r[0].status, r[0].stdout) == ("ok", "1000000\n"), r[0]
    assert (r[1].status, r[1].stdout) == ("ok", "3\n"), r[1]


def test_numpy_is_in_the_image(sb):
    # 48 CodeNet and many Avatar Python programs import numpy (AtCoder has it).
    (r,) = sb.run([ExecJob(source="import numpy as np\nprint(int(np.arange(10).sum()))")])
    assert (r.status, r.stdout) == ("ok", "45\n"), r


def test_codenet_java_sample_matches_expected_output(sb):
    if not CODENET_JAVA.is_dir():
        pytest.fail(f"missing {CODENET_JAVA}") if IN_CI else pytest.skip(f"missing {CODENET_JAVA}")
    dirs = sorted(p for p in CODENET_JAVA.iterdir() if (p / "Main.java").exists())[:24]
    jobs = [ExecJob(language="java", source=(d / "Main.java").read_text(), stdin=(d / "input.txt").read_text(),
                    limits=Limits(wall_seconds=30, cpu_seconds=20)) for d in dirs]
    res = sb.run(jobs)
    ok = [x.stdout.split() == (d / "output.txt").read_text().split() for x, d in zip(res, dirs)]
    assert sum(ok) >= len(dirs) - 2, [(d.name, x.status, x.stderr[:200]) for x, d in zip(res, dirs)]


# ---------------------------------------------------------------- CLI


def _cli(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codemind.sandbox.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_cli_doctor_and_exec(tmp_path):
    need_docker()
    d = _cli("doctor")
    assert d.returncode == 0 and "engine:" in d.stdout and "image:" in d.stdout
    p = tmp_path / "p.py"
    p.write_text("def f(x):\n    return x + 1\nprint('side')\n")
    r = _cli("exec", str(p), "--call", "f(41)", "--json", "--sandbox", "docker")
    ex = json.loads(r.stdout)
    assert (ex["status"], ex["return_repr"], ex["stdout"]) == ("ok", "42", "side\n")
    j = tmp_path / "Sum.java"
    j.write_text("import java.util.*; public class Sum { public static void main(String[] a) {"
                 " Scanner s = new Scanner(System.in); System.out.println(s.nextInt() + s.nextInt()); } }")
    (tmp_path / "in.txt").write_text("2 3\n")
    r = _cli("exec", str(j), "--stdin", str(tmp_path / "in.txt"), "--sandbox", "docker")
    assert r.returncode == 0 and "status: ok" in r.stdout and "\n5\n" in r.stdout
    r = _cli("exec", str(tmp_path / "missing.py"))
    assert r.returncode == 2 and r.stderr.strip().startswith("error:") and "Traceback" not in r.stderr


def test_doctor_without_engine_says_what_to_do():
    env = dict(os.environ, DOCKER_HOST="unix:///nonexistent/docker.sock")
    r = subprocess.run([sys.executable, "-m", "codemind.sandbox.cli", "doctor"], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 2
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2 and all(l.startswith("FAIL") for l in lines)
    assert "setup-docker.sh" in lines[0] and "codemind sandbox build" in lines[1]
    from codemind.sandbox.docker import engine_ready

    os.environ["DOCKER_HOST"], old = "unix:///nonexistent/docker.sock", os.environ.get("DOCKER_HOST")
    try:
        assert engine_ready() is False
    finally:
        if old is None:
            del os.environ["DOCKER_HOST"]
        else:
            os.environ["DOCKER_HOST"] = old
