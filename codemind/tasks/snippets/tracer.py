# CodeMind's line tracer: the source of a sandbox job (codemind/tasks/tracing.py trace_job).
# The job's one call is __codemind_trace__(SOURCE, CALL, MAX_STEPS, MAX_VALUE, MAX_BYTES, SEED):
# it seeds the random module with SEED (a trace, and so its answers, must not change from run to
# run; the determinism probe traces again under another seed and leaves out programs whose
# trace then differs), compiles the program's source, runs it and the call under sys.settrace
# restricted to the program's own code objects, and returns the trace as a plain value (the
# runner encodes it with plainvalues and sends it on the result channel, like any call's value).
#
# The trace: {"v": 1, "status": "ok" | "raised", "exc": type name, "steps": [[frame, event, line,
# {name: value}], ...], "frames": {frame: [code name, first line, parent frame]}, "truncated":
# bool, "tampered": reason or None, "return": repr of the call's value}. event "l" is a line
# about to run, "r" a return from the frame; the dict holds the frame's locals that changed since
# the frame's previous step, each a plainvalues encoding, "!big" (over MAX_VALUE bytes) or "!obj"
# (not a plain value), "!del" (gone). Module-level frames record no locals. Past MAX_STEPS steps
# or MAX_BYTES bytes the trace stops (truncated) and the program runs on untraced.
#
# Everything the tracer calls is bound before the program runs (a program may rebind builtins);
# sys.settrace, sys.setprofile and threading.settrace are replaced while the program runs, so a
# program that tries to switch tracing off is recorded as tampering, and so is one whose trace
# function is not the tracer's when it ends.
import builtins as _builtins
import random as _random
import sys as _sys

import codemind_plainvalues as _pv

_settrace, _gettrace, _setprofile = _sys.settrace, _sys.gettrace, _sys.setprofile
_compile, _exec, _eval, _repr, _len, _type, _id = compile, exec, eval, repr, len, type, id
_CodeType = _type(_compile("0", "<x>", "eval"))
_encode, _NotPlain = _pv.encode, _pv.NotPlain
_BaseException, _Exception, _set, _dict, _list = BaseException, Exception, set, dict, list
_dict_items, _list_append, _set_add = dict.items, list.append, set.add
_str_startswith = str.startswith
_getattr, _setattr, _hasattr = getattr, setattr, hasattr


def _codes(code, out):
    _set_add(out, code)
    for const in code.co_consts:
        if _type(const) is _CodeType:
            _codes(const, out)
    return out


def __codemind_trace__(source, call, max_steps, max_value, max_bytes, seed=0):
    code = _compile(source, "<program>", "exec", dont_inherit=True)
    call_code = None if call is None else _compile(call, "<call>", "eval", dont_inherit=True)
    own = _codes(code, _set())
    steps = []
    frames = {}
    fids = {}  # id(frame) -> frame number (frames are kept alive in `alive` while traced)
    alive = []
    last = {}  # frame number -> {name: encoding} as last recorded
    state = {"bytes": 0, "done": False, "truncated": False}
    tampered = []

    def snapshot(frame, fid):
        if frame.f_code is code:
            return {}
        before = last.get(fid)
        if before is None:
            before = last[fid] = {}
        diff = {}
        seen = _set()
        for name, value in _dict_items(frame.f_locals):
            _set_add(seen, name)
            try:
                enc = _encode(value, max_value)
            except _NotPlain as e:
                enc = "!big" if "over" in _repr(e) else "!obj"
            except _Exception:
                enc = "!obj"
            if before.get(name) != enc:
                diff[name] = before[name] = enc
                state["bytes"] += _len(name) + _len(enc) + 4
        for name in [n for n in before if n not in seen]:
            if before[name] != "!del":
                diff[name] = before[name] = "!del"
        return diff

    def stop(frame):
        state["done"] = state["truncated"] = True
        _settrace(None)
        frame.f_trace = None

    def local(frame, event, arg):
        if state["done"]:
            frame.f_trace = None
            return None
        if event == "line" or event == "return":
            fid = fids.get(_id(frame))
            if fid is None:
                return None
            if _len(steps) >= max_steps or state["bytes"] >= max_bytes:
                stop(frame)
                return None
            diff = snapshot(frame, fid)
            state["bytes"] += 24
            _list_append(steps, [fid, "l" if event == "line" else "r", frame.f_lineno, diff])
        return local

    def glob(frame, event, arg):
        if state["done"] or frame.f_code not in own:
            return None
        fid = fids.get(_id(frame))
        if fid is not None:  # a generator resumed: the same frame
            return local
        fid = _len(frames)
        parent = fids.get(_id(frame.f_back)) if frame.f_back is not None else None
        fids[_id(frame)] = fid
        _list_append(alive, frame)
        frames[fid] = [frame.f_code.co_name, frame.f_code.co_firstlineno, parent]
        return local

    def guard(name):
        def refused(*args, **kwargs):
            _list_append(tampered, name)
        return refused

    threading = _sys.modules.get("threading")
    saved = [(_sys, "settrace", _settrace), (_sys, "setprofile", _setprofile)]
    if threading is not None and _hasattr(threading, "settrace"):
        saved.append((threading, "settrace", threading.settrace))
    for owner, name, _ in saved:
        _setattr(owner, name, guard(name))
    ns = {"__name__": "__main__", "__builtins__": _builtins, "__file__": "main.py"}
    result = None
    status, exc = "ok", None
    _random.seed(seed)
    _settrace(glob)
    try:
        _exec(code, ns)
        if call_code is not None:
            result = _eval(call_code, ns)
    except _BaseException as e:  # SystemExit included: a call that exits has not returned
        status, exc = "raised", _type(e).__name__
    finally:
        current = _gettrace()
        _settrace(None)
        for owner, name, original in saved:
            _setattr(owner, name, original)
    if not state["done"] and current is not glob:
        _list_append(tampered, "trace function replaced")
    elif state["done"] and current is not None:
        _list_append(tampered, "trace function set after the tracer stopped")
    alive.clear()
    out = {"v": 1, "status": status, "exc": exc, "steps": steps, "frames": frames,
           "truncated": state["truncated"], "tampered": ", ".join(tampered) or None, "return": None}
    if status == "ok" and call_code is not None:
        try:
            out["return"] = _repr(result)
        except _BaseException as e:
            out["status"], out["exc"] = "raised", _type(e).__name__
    return out
