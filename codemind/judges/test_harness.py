"""A benchmark's test, run whole, against code under test that lives in another process.

This file is a *program for the sandbox*: judges/tests.py sends its text as a job's source and
calls ``codemind_test_harness()``; the host never imports it. It is for the few tests that
cannot be split into checks (judges/testchecks.py: loops, random inputs, helper variables).

The job's child (this program) first reads the code under test, forks the *code process* and
only then reads the test, so the test never exists in the code process's memory. The code
process runs the code and serves calls: each request names a function and carries plain
arguments (sandbox/runner/plainvalues.py); each reply is a plain value, the exception's type,
or why the result is not a plain value. This process runs the benchmark's reference set-up
(its helper functions) and the test, with every function of the code under test replaced by a
proxy that makes such a request. So the test's asserts, its loops and its exceptions all run
here, on plain values: the code process cannot exit for it, patch its builtins, trace it or
return an object that equals anything. (It can kill it: then no verdict comes back and the
judge says the code ended early.) The runner makes every job non-dumpable, so neither process
can read or write the other's memory.

stdin: two frames, each a 10-digit length and that many bytes of UTF-8 JSON: first
{"code": ...}, then {"reference": ..., "tests": ..., "candidates": [...]}.
Verdict (the call's value): ["passed"] | ["failed", exc type, message] | ["exited_early", why]
| ["not_value", why] | ["unsupported", why] (an argument the proxy cannot send).
"""

import builtins
import json
import os
import signal
import sys
import types

_PV = sys.modules["codemind_plainvalues"]  # loaded by the runner
_MAX_LINE = 64 << 20


class _CodeGone(BaseException):
    """The code process ended or broke the protocol (a BaseException: tests' ``except
    Exception`` must not swallow it)."""


class _NotValue(BaseException):
    pass


class _Unsupported(BaseException):
    pass


def _read_frame(fd: int) -> dict:
    """Exactly one frame from fd: never a byte more, so nothing after it is in this process."""
    head = _read_exact(fd, 10)
    return json.loads(_read_exact(fd, int(head)).decode("utf-8"))


def _read_exact(fd: int, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            raise EOFError("short frame")
        buf += chunk
    return bytes(buf)


def _serve(code: str, requests: int, replies: int) -> None:
    """The code process: run the code in a fresh __main__, then answer calls until the harness
    hangs up."""
    pv, loads, dumps, write = _PV, json.loads, json.dumps, os.write
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    inp = os.fdopen(requests, "rb")
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main
    load_error = None
    try:
        exec(compile(code, "main.py", "exec"), main.__dict__)
    except BaseException as e:  # SystemExit included: the calls then report it
        load_error = e
    while True:
        line = inp.readline(_MAX_LINE)
        if not line:
            return
        try:
            request = loads(line)
            args, kwargs = pv.decode(request["args"])
            if load_error is not None:
                raise load_error
            value = main.__dict__[request["f"]](*args, **kwargs)
        except (SystemExit, KeyboardInterrupt) as e:  # the code ended itself
            reply = {"exited": type(e).__name__}
        except BaseException as e:
            reply = {"raised": type(e).__name__, "message": str(e)[:500]}
        else:
            try:
                reply = {"value": pv.encode(value)}
            except pv.NotPlain as e:
                reply = {"not_value": str(e)}
        write(replies, (dumps(reply) + "\n").encode("ascii"))


class _Proxies:
    """Stand-ins for the code's functions; the first thing that makes a verdict impossible
    (the code process gone, a result that is not a value, an argument that cannot be sent) is
    kept, so a test that swallows the exception still gets that verdict."""

    def __init__(self, requests: int, replies):
        self.requests, self.replies = requests, replies
        self.trouble: BaseException | None = None

    def make(self, name: str):
        def call(*args, **kwargs):
            return self.call(name, args, kwargs)

        call.__name__ = name
        return call

    def fail(self, error: BaseException) -> BaseException:
        if self.trouble is None:
            self.trouble = error
        return error

    def call(self, name: str, args: tuple, kwargs: dict):
        if isinstance(self.trouble, _CodeGone):
            raise self.trouble
        try:
            payload = _PV.encode((args, kwargs))
        except _PV.NotPlain as e:
            raise self.fail(_Unsupported(f"an argument of {name} is not a plain value: {e}")) from None
        try:
            os.write(self.requests, (json.dumps({"f": name, "args": payload}) + "\n").encode("ascii"))
            reply = json.loads(self.replies.readline(_MAX_LINE))
            if not isinstance(reply, dict):
                raise ValueError("not an object")
            if "value" in reply:
                return _PV.decode(reply["value"])
        except (OSError, ValueError) as e:
            raise self.fail(_CodeGone(f"the code process is gone or broke the protocol ({type(e).__name__})")) from None
        if "not_value" in reply:
            raise self.fail(_NotValue(f"{name} returned {reply['not_value']}, not a plain value"))
        if "exited" in reply:
            raise self.fail(_CodeGone(f"the code raised {reply['exited']}"))
        raise _builtin_exception(reply.get("raised"), reply.get("message"))


def _builtin_exception(name, message) -> BaseException:
    """The exception the code raised, rebuilt here from its name (only builtin Exception
    classes: tests that expect a ValueError still see one; nothing the code defined runs)."""
    cls = getattr(builtins, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = RuntimeError
    try:
        return cls(str(message))
    except Exception:
        return RuntimeError(f"{name}: {message}")


def codemind_test_harness() -> list:
    code = _read_frame(0)["code"]
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(3)  # the job's result channel: only this process reports
            os.close(req_w)
            os.close(rep_r)
            _serve(code, req_r, rep_w)
        finally:
            os._exit(0)
    os.close(req_r)
    os.close(rep_w)
    del code
    spec = _read_frame(0)
    proxies = _Proxies(req_w, os.fdopen(rep_r, "rb"))
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec(compile(spec["reference"], "reference.py", "exec"), namespace)
        for name in spec["candidates"]:
            namespace[name] = proxies.make(name)
        exec(compile(spec["tests"], "tests.py", "exec"), namespace)
        verdict = ["passed"]
    except BaseException as e:
        verdict = ["failed", type(e).__name__, str(e)[:500]]
    finally:
        os.close(req_w)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
    trouble = proxies.trouble
    if trouble is not None:
        kind = {_CodeGone: "exited_early", _NotValue: "not_value", _Unsupported: "unsupported"}[type(trouble)]
        verdict = [kind, str(trouble)]
    return verdict
