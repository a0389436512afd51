"""Java values in the judge: what a Java call returned, decoded from the plain-value records the
sandbox's test Main writes (judges/java/TestMain.java), and Java's `equals`, `==` and `toString`
on them.

A value is one of these exact types, nothing else (``decode`` raises on anything else):

- ``JScalar(kind, value)``: a boxed primitive or a String; ``kind`` is the Java class's
  letter: I Integer, J Long, S Short, B Byte, D Double, F Float, Z Boolean, C Character,
  s String (value: int, float, bool or str);
- ``JList`` / ``JSet`` (elements in the order the JDK iterated them), ``JMap`` (key/value
  pairs in that order), ``JOptional`` (``present`` and its value), ``JArray`` (the component
  type's name and the elements), and ``None`` for null.

Java's semantics, as the HumanEval-X tests use them: ``equals`` is exact-class for boxed
values (``Integer(1).equals(Long(1))`` is false), element-wise for any List, unordered for Set
and Map, by value for Optional, identity for arrays (so never, across processes); ``==`` on
numbers (and chars) compares after binary numeric promotion. ``==`` on two Strings is taken as
``equals`` (Java compares references there; the tests only do it for strings the call was
given, Java/137), the one place this judge is more lenient than javac's program would be.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal

NUMERIC = "IJSBDFC"
INTEGRAL = "IJSBC"


@dataclass(frozen=True)
class JScalar:
    kind: str
    value: object


@dataclass(frozen=True, eq=False)
class JList:
    items: tuple


@dataclass(frozen=True, eq=False)
class JSet:
    items: tuple


@dataclass(frozen=True, eq=False)
class JMap:
    pairs: tuple  # ((key, value), ...)


@dataclass(frozen=True, eq=False)
class JOptional:
    present: bool
    value: object = None


@dataclass(frozen=True, eq=False)
class JArray:
    component: str
    items: tuple


class JavaError(Exception):
    """What Java would throw evaluating a check (NullPointerException, ClassCastException...)."""


class BadRecord(ValueError):
    """A record that is not exactly what the test Main writes."""


_MAX_DEPTH = 100


def decode(obj, depth: int = 0):
    """A JSON-decoded record value -> a Java value; BadRecord on anything the encoder never writes."""
    if depth > _MAX_DEPTH or not isinstance(obj, dict) or len(obj) != 1:
        raise BadRecord("not a value record")
    (tag, v), = obj.items()
    if tag == "N" and v == 0:
        return None
    if tag in ("I", "S", "B") and type(v) is int and -(1 << 31) <= v < (1 << 31):
        return JScalar(tag, v)
    if tag == "J" and type(v) is str:
        n = int(v)
        if not -(1 << 63) <= n < (1 << 63):
            raise BadRecord("long out of range")
        return JScalar("J", n)
    if tag in ("D", "F") and type(v) is str:
        return JScalar(tag, _java_double(v))
    if tag == "Z" and type(v) is bool:
        return JScalar("Z", v)
    if tag == "C" and type(v) is str and len(v) == 1:
        return JScalar("C", v)
    if tag == "s" and type(v) is str:
        return JScalar("s", v)
    if tag in ("L", "Set") and type(v) is list:
        items = tuple(decode(x, depth + 1) for x in v)
        return JList(items) if tag == "L" else JSet(items)
    if tag == "M" and type(v) is list:
        pairs = []
        for p in v:
            if type(p) is not list or len(p) != 2:
                raise BadRecord("bad map entry")
            pairs.append((decode(p[0], depth + 1), decode(p[1], depth + 1)))
        return JMap(tuple(pairs))
    if tag == "O" and type(v) is list and len(v) <= 1:
        return JOptional(True, decode(v[0], depth + 1)) if v else JOptional(False)
    if tag == "A" and type(v) is list and len(v) == 2 and type(v[0]) is str and type(v[1]) is list:
        return JArray(v[0], tuple(decode(x, depth + 1) for x in v[1]))
    raise BadRecord(f"unknown value tag {tag!r}")


def _java_double(text: str) -> float:
    if text == "NaN":
        return math.nan
    if text in ("Infinity", "-Infinity"):
        return math.inf if text[0] == "I" else -math.inf
    try:
        return float(text)
    except ValueError as e:
        raise BadRecord("bad double") from e


def loads(text: str):
    try:
        return decode(json.loads(text))
    except (json.JSONDecodeError, RecursionError, TypeError) as e:
        raise BadRecord(str(e)) from e


# ---------------------------------------------------------------- Java semantics


def jequals(a, b) -> bool:
    """a.equals(b), a not null."""
    if a is None:
        raise JavaError("NullPointerException")
    return _eq(a, b)


def _eq(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, JScalar):
        if not isinstance(b, JScalar) or a.kind != b.kind:
            return False
        if a.kind in "DF":  # Double.equals compares bits: NaN equals NaN, 0.0 is not -0.0
            x, y = float(a.value), float(b.value)  # type: ignore[arg-type]
            return (x != x and y != y) or (x == y and math.copysign(1, x) == math.copysign(1, y))
        return a.value == b.value
    if isinstance(a, JList):
        return isinstance(b, JList) and len(a.items) == len(b.items) and all(map(_eq, a.items, b.items))
    if isinstance(a, JSet):
        return isinstance(b, JSet) and len(a.items) == len(b.items) and all(
            any(_eq(x, y) for y in b.items) for x in a.items)
    if isinstance(a, JMap):
        if not isinstance(b, JMap) or len(a.pairs) != len(b.pairs):
            return False
        return all(any(_eq(k, k2) and _eq(v, v2) for k2, v2 in b.pairs) for k, v in a.pairs)
    if isinstance(a, JOptional):
        return isinstance(b, JOptional) and a.present == b.present and (not a.present or _eq(a.value, b.value))
    return a is b  # arrays: identity


def numeric(v) -> int | float:
    """The primitive value of a number or char (unboxing); JavaError otherwise."""
    if isinstance(v, JScalar) and v.kind in NUMERIC:
        return ord(v.value) if v.kind == "C" else v.value  # type: ignore[arg-type,return-value]
    if v is None:
        raise JavaError("NullPointerException")
    raise JavaError("incomparable types")


def jsame(a, b) -> bool:
    """a == b."""
    if isinstance(a, JScalar) and isinstance(b, JScalar):
        if a.kind == "Z" or b.kind == "Z":
            return a.kind == b.kind and a.value == b.value
        if a.kind == "s" or b.kind == "s":
            return a.kind == b.kind and a.value == b.value  # lenient: see the module docstring
        return numeric(a) == numeric(b)
    return a is b


def to_string(v) -> str | None:
    """String.valueOf(v) (Arrays.toString for arrays), or None where this judge cannot say it
    exactly (Float)."""
    if v is None:
        return "null"
    if isinstance(v, JScalar):
        if v.kind == "Z":
            return "true" if v.value else "false"
        if v.kind == "D":
            return double_to_string(float(v.value))  # type: ignore[arg-type]
        if v.kind == "F":
            return None
        return str(v.value)
    if isinstance(v, (JList, JSet, JArray)):
        parts = [to_string(x) for x in v.items]
        return None if None in parts else "[" + ", ".join(parts) + "]"  # type: ignore[arg-type]
    if isinstance(v, JMap):
        parts = [(to_string(k), to_string(x)) for k, x in v.pairs]
        if any(p is None for pair in parts for p in pair):
            return None
        return "{" + ", ".join(f"{k}={x}" for k, x in parts) + "}"
    if isinstance(v, JOptional):
        if not v.present:
            return "Optional.empty"
        inner = to_string(v.value)
        return None if inner is None else f"Optional[{inner}]"
    return None


def double_to_string(x: float) -> str:
    """Java's Double.toString (shortest digits that round-trip, as JDK 19+ and nearly always 17)."""
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1, x) < 0 else "0.0"
    sign = "-" if x < 0 else ""
    d = Decimal(repr(abs(x)))
    digits = str(d.as_tuple().digits and "".join(map(str, d.as_tuple().digits))).lstrip("0") or "0"
    digits = digits.rstrip("0") or "0"
    exp10 = d.adjusted()  # value = 0.digits... * 10^(exp10+1)
    if 1e-3 <= abs(x) < 1e7:
        if exp10 >= 0:
            whole = digits[: exp10 + 1].ljust(exp10 + 1, "0")
            frac = digits[exp10 + 1:] or "0"
        else:
            whole, frac = "0", "0" * (-exp10 - 1) + digits
        return f"{sign}{whole}.{frac}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exp10}"
