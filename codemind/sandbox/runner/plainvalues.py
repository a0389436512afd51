"""Plain values: the only thing untrusted code hands back to the judge.

A sandboxed child evaluates a call and ``encode``s the result; the host ``decode``s it and
compares it with what it expected, in its own process. So whatever the code under test does,
what crosses the boundary is data of a few exact builtin types, never an object whose methods
it wrote. Both sides import this one file (stdlib only: it also runs inside the sandbox image).

Accepted, by exact type (``type(x) is int``, never ``isinstance``: subclasses and custom objects
are refused): None, bool, int, float, complex, str, bytes, bytearray, list, tuple, dict, set,
frozenset, and collections' Counter, OrderedDict, defaultdict (its factory is not kept: equality
ignores it) and deque. Containers are encoded recursively. A mutable container met twice is
encoded once and referred to afterwards, so aliasing survives (``[[]] * 3`` decodes to three
references to one list); a container that contains itself through an immutable one is refused.

The encoding is JSON: null, true, false, numbers (ints past JSON-safe size as hex strings),
strings, arrays for lists, and one-key objects for everything else (``{"t": [...]}`` a tuple,
``{"d": [[k, v], ...]}`` a dict, ``{"r": n}`` the n-th mutable container again, ...).
``decode`` accepts exactly what ``encode`` writes and raises ValueError on anything else, with
bounded depth and size, so a forged record can claim a value but never more than a value.
"""

from __future__ import annotations

import collections
import json
import math

MAX_DEPTH = 400  # nesting the encoder accepts and the decoder rebuilds (below the recursion limit)
_INT_DIGITS = 4000  # ints with more decimal digits travel as hex (str(int) has a digit limit)

_NONE = type(None)
_COUNTER, _ORDERED, _DEFAULT, _DEQUE = (collections.Counter, collections.OrderedDict,
                                        collections.defaultdict, collections.deque)
# tag of each mapping type and how its items are read without calling methods the code may patch
_MAPPINGS = {dict: "d", _COUNTER: "cnt", _ORDERED: "od", _DEFAULT: "dd"}
_SEQUENCES = {tuple: "t", set: "s", frozenset: "fs", _DEQUE: "dq"}
_MUTABLE = (list, dict, set, bytearray, _COUNTER, _ORDERED, _DEFAULT, _DEQUE)
_type, _len, _id, _isinf, _isnan = type, len, id, math.isinf, math.isnan
_dict_items, _list_iter, _hex = dict.items, list.__iter__, bytes.hex


class NotPlain(Exception):
    """The value is not a plain value; the message names why (the offending type)."""


def type_name(value) -> str:
    t = _type(value)
    module = getattr(t, "__module__", "?")
    return t.__qualname__ if module == "builtins" else f"{module}.{t.__qualname__}"


def encode(value, max_bytes: int = 1 << 20) -> str:
    """JSON text of a plain value; raises NotPlain (with the reason) for anything else or when
    the text would exceed max_bytes."""
    seen: dict[int, int] = {}  # id -> index of a mutable container already encoded
    active: set[int] = set()  # containers being encoded (a cycle through an immutable one)
    keep: list = []  # keeps every encoded container alive so ids stay unique
    size = [0]

    def grow(n: int) -> None:
        size[0] += n
        if size[0] > max_bytes:
            raise NotPlain(f"value over {max_bytes} bytes")

    def enc(x, depth: int):
        if depth > MAX_DEPTH:
            raise NotPlain(f"nested deeper than {MAX_DEPTH}")
        t = _type(x)
        if x is None or t is bool:
            grow(5)
            return x
        if t is int:
            if -(1 << 53) < x < (1 << 53):
                grow(20)
                return x
            h = int.__format__(x, "x")
            grow(_len(h) + 10)
            return {"i": h}
        if t is float:
            grow(26)
            if _isnan(x):
                return {"x": "nan"}
            if _isinf(x):
                return {"x": "inf" if x > 0 else "-inf"}
            return x
        if t is str:
            grow(2 * _len(x) + 2)
            return x
        if t is complex:
            return {"c": [enc(x.real, depth + 1), enc(x.imag, depth + 1)]}
        if t is bytes or t is bytearray:
            grow(2 * _len(x) + 10)
            tag = "b" if t is bytes else "ba"
            if t is bytearray:
                ref = _ref(x)
                if ref is not None:
                    return ref
            return {tag: _hex(x) if t is bytes else bytearray.hex(x)}
        if t in _MAPPINGS or t is list or t in _SEQUENCES:
            ref = _ref(x) if t in _MUTABLE else None
            if ref is not None:
                return ref
            key = _id(x)
            if key in active:
                raise NotPlain("a container that contains itself")
            active.add(key)
            keep.append(x)
            grow(4)
            try:
                if t is list:
                    return [enc(v, depth + 1) for v in _list_iter(x)]
                if t in _MAPPINGS:
                    items = [[enc(k, depth + 1), enc(v, depth + 1)] for k, v in _dict_items(x)]
                    return {_MAPPINGS[t]: items}
                out = {_SEQUENCES[t]: [enc(v, depth + 1) for v in x]}
                if t is _DEQUE and x.maxlen is not None:
                    out["max"] = x.maxlen
                return out
            finally:
                active.discard(key)
        raise NotPlain(type_name(x))

    def _ref(x):
        key = _id(x)
        if key in seen:
            grow(10)
            return {"r": seen[key]}
        seen[key] = _len(seen)
        return None

    try:
        tree = enc(value, 0)
        return _dumps(tree)
    except RecursionError:
        raise NotPlain(f"nested deeper than {MAX_DEPTH}") from None


def _json_writer():
    """The C JSON encoder, bound once: json.dumps checks types with builtins a program may
    have patched (isinstance), the C encoder does not."""
    import json.encoder as enc

    if enc.c_make_encoder is not None:
        write = enc.c_make_encoder(None, None, enc.encode_basestring_ascii, None, ":", ",", False, False, False)
        return lambda tree: "".join(write(tree, 0))
    return lambda tree: json.dumps(tree, ensure_ascii=True, separators=(",", ":"), allow_nan=False)


_dumps = _json_writer()
_FLOATS = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def decode(text: str):
    """The value encode() wrote; ValueError for anything encode() cannot have written."""
    try:
        tree = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("nested too deep") from None
    refs: list = []

    def dec(node, depth: int):
        if depth > MAX_DEPTH:
            raise ValueError("nested too deep")
        t = _type(node)
        if node is None or t in (bool, int, float, str):
            return node
        if t is list:
            out: list = []
            refs.append(out)
            out.extend(dec(v, depth + 1) for v in node)
            return out
        if t is not dict or _len(node) not in (1, 2):
            raise ValueError(f"not an encoded value: {str(node)[:60]}")
        (tag, body), *rest = node.items()
        if tag == "r":
            if _type(body) is not int or not 0 <= body < _len(refs):
                raise ValueError("bad reference")
            return refs[body]
        if rest and not (tag == "dq" and rest[0][0] == "max" and _type(rest[0][1]) is int and rest[0][1] >= 0):
            raise ValueError(f"not an encoded value: {str(node)[:60]}")
        if tag == "i" and _type(body) is str:
            return int(body, 16)
        if tag == "x" and body in _FLOATS:
            return _FLOATS[body]
        if tag == "c" and _type(body) is list and _len(body) == 2:
            re_, im = (dec(v, depth + 1) for v in body)
            if _type(re_) is not float or _type(im) is not float:
                raise ValueError("bad complex")
            return complex(re_, im)
        if tag in ("b", "ba") and _type(body) is str:
            data = bytes.fromhex(body)
            if tag == "b":
                return data
            out = bytearray(data)
            refs.append(out)
            return out
        if _type(body) is not list:
            raise ValueError(f"bad body for {tag!r}")
        if tag in ("d", "cnt", "od", "dd"):
            mapping = {"d": dict, "cnt": _COUNTER, "od": _ORDERED, "dd": _DEFAULT}[tag]()
            refs.append(mapping)
            for pair in body:
                if _type(pair) is not list or _len(pair) != 2:
                    raise ValueError("bad mapping item")
                k = dec(pair[0], depth + 1)
                mapping[k] = dec(pair[1], depth + 1)  # TypeError for an unhashable key: below
            return mapping
        if tag == "t":
            return tuple(dec(v, depth + 1) for v in body)
        if tag in ("s", "fs"):
            out = set() if tag == "s" else None
            if out is not None:
                refs.append(out)
                out.update(dec(v, depth + 1) for v in body)
                return out
            return frozenset(dec(v, depth + 1) for v in body)
        if tag == "dq":
            out = _DEQUE(maxlen=rest[0][1] if rest else None)
            refs.append(out)
            out.extend(dec(v, depth + 1) for v in body)
            return out
        raise ValueError(f"unknown tag {tag!r}")

    try:
        return dec(tree, 0)
    except (TypeError, RecursionError) as e:
        raise ValueError(f"not an encoded value ({type(e).__name__})") from None


def _no_constant(name: str):
    raise ValueError(f"bare {name} is not an encoded value")
