# Sent to the sandbox by judges/tests.py between the code under test and the rewritten unittest
# classes (judges/unittest_checks.py). Each test method's asserts were replaced by
# _codemind_record(<assert id>, <values>...): the values come back as plain values and every
# assertion is decided in the judge's process, never here.
import numbers as _codemind_numbers
import sys as _codemind_sys

_codemind_log = []
OPAQUE = "__codemind_opaque__"


def _codemind_plain(v, depth=0):
    """v if it is a plain value; a number type's int/float; else [OPAQUE, type name, repr]
    (compared by both in the judge: datetime, Decimal, ...)."""
    try:
        _codemind_sys.modules["codemind_plainvalues"].encode(v)
        return v
    except Exception:
        pass
    if isinstance(v, _codemind_numbers.Integral):
        return int(v)
    if isinstance(v, _codemind_numbers.Real):
        return float(v)
    if type(v) in (list, tuple) and depth < 50:  # a list of numpy floats: a list of floats
        return type(v)(_codemind_plain(x, depth + 1) for x in v)
    return [OPAQUE, type(v).__module__ + "." + type(v).__qualname__, repr(v)[:10000]]


def _codemind_record(i, *values):
    _codemind_log.append([i, [_codemind_plain(v) for v in values]])


class _codemind_raises:
    """`with self.assertRaises(E):`: logs the raised exception's class names, or None."""

    def __init__(self, i):
        self.i = i

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is None:
            _codemind_record(self.i, None)
            return False
        if not issubclass(kind, Exception):  # SystemExit, KeyboardInterrupt: the code ended itself
            return False
        _codemind_record(self.i, [c.__name__ for c in kind.__mro__])
        return True


def _codemind_case(class_name, method):
    """One test method (with setUp and tearDown): its log of [assert id, [values]]."""
    global _codemind_log
    _codemind_log = []
    case = globals()[class_name]()
    if hasattr(case, "setUp"):
        case.setUp()
    try:
        getattr(case, method)()
    finally:
        if hasattr(case, "tearDown"):
            case.tearDown()
    return _codemind_log
