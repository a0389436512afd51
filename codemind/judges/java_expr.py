"""The judged part of a HumanEval-X Java check, parsed and evaluated in the judge's process.

A check such as ``s.f(x).equals(Arrays.asList(1, 2))`` is split (judges/java_tests.py) into
the call of the code under test, ``s.f(x)``, which runs in the sandbox, and the rest, parsed
here into a small syntax tree with the call as a placeholder and evaluated on the call's
plain value (judges/java_values.py) with Java's semantics. This is an interpreter of a small
subset of Java expressions, not a compiler: literals, ``!``/``-``/arithmetic/comparisons/
``&&``/``||``, casts, ``Arrays.asList``/``List.of``/``Set.of``/``Optional.of``/
``Optional.empty``/``Math.abs``/``Objects.equals``, ``new ArrayList<>(...)``/``new
HashMap<>()``, and ``equals``/``get``/``isEmpty``/``isPresent``/``size``/``length``/
``contains`` on values. Anything else is a ``Unsupported`` error when the test is planned, so
the problem is left out rather than judged wrongly. Nothing here runs code of the program.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from codemind.judges.java_values import (INTEGRAL, JArray, JavaError, JList, JMap, JOptional, JScalar, JSet,
                                         _eq, jequals, jsame, numeric)


class Unsupported(ValueError):
    """The expression uses Java this interpreter does not evaluate."""


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)[lLdDfF]?)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<chr>'(?:[^'\\\n]|\\.[^']*)')
  | (?P<id>[A-Za-z_$][\w$]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%!<>(),.?:\[\]{};=&|^~@])
""", re.X)


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    start: int
    end: int


def tokenize(src: str) -> list[Tok]:
    out, i = [], 0
    while i < len(src):
        m = _TOKEN.match(src, i)
        if not m:
            raise Unsupported(f"cannot read {src[i:i + 20]!r}")
        if m.lastgroup != "ws":
            out.append(Tok(m.lastgroup, m.group(), m.start(), m.end()))  # type: ignore[arg-type]
        i = m.end()
    return out


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0", "s": " ", '"': '"', "'": "'",
            "\\": "\\"}


def unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt == "u":
            j = i + 1
            while body[j] == "u":
                j += 1
            out.append(chr(int(body[j:j + 4], 16)))
            i = j + 4
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            raise Unsupported(f"escape \\{nxt}")
    return "".join(out)


def number(text: str) -> JScalar:
    t = text.replace("_", "")
    suffix = t[-1].lower() if t[-1] in "lLdDfF" else ""
    body = t[:-1] if suffix else t
    if suffix == "l":
        return JScalar("J", int(body))
    if suffix in ("d", "f") or any(c in body for c in ".eE"):
        return JScalar("F" if suffix == "f" else "D", float(body))
    n = int(body)
    if n >= 1 << 31:
        raise Unsupported("int literal out of range")
    return JScalar("I", n)


# static classes the checks call, and the types casts and `new` may name
_STATIC = {"Arrays", "List", "Set", "Map", "Optional", "Math", "Objects", "Collections", "String"}
_CASTS = {"int": "I", "long": "J", "short": "S", "byte": "B", "double": "D", "float": "F", "char": "C",
          "boolean": "Z", "Integer": "I", "Long": "J", "Short": "S", "Byte": "B", "Double": "D", "Float": "F",
          "Character": "C", "Boolean": "Z", "String": "s", "Object": "*"}
_NEW = {"ArrayList": "list", "LinkedList": "list", "HashMap": "map", "TreeMap": "map", "LinkedHashMap": "map",
        "HashSet": "set", "TreeSet": "set", "LinkedHashSet": "set"}
_PREC = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}


class Parser:
    """Parses one expression. ``call_receiver``: the variable whose method calls are calls of the
    code under test (``s``); each outermost one becomes ``("call", k)``, its text in ``calls``."""

    def __init__(self, src: str, call_receiver: str | None = "s"):
        self.src, self.toks, self.i = src, tokenize(src), 0
        self.receiver = call_receiver
        self.calls: list[str] = []
        self.spans: dict[int, tuple[int, int]] = {}  # id(node) -> its source span (while the tree lives)

    def _span(self, node, first: int):
        self.spans[id(node)] = (self.toks[first].start, self.toks[self.i - 1].end)
        return node

    def peek(self, k: int = 0) -> Tok | None:
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def take(self, text: str | None = None) -> Tok:
        t = self.peek()
        if t is None or (text is not None and t.text != text):
            raise Unsupported(f"expected {text or 'more'} in {self.src[:120]!r}")
        self.i += 1
        return t

    def parse(self):
        node = self.expr(0)
        if self.peek() is not None:
            raise Unsupported(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return node

    def expr(self, min_prec: int):
        first = self.i
        left = self.unary()
        while (t := self.peek()) is not None and t.kind == "op" and _PREC.get(t.text, 0) > min_prec:
            self.i += 1
            left = self._span(("bin", t.text, left, self.expr(_PREC[t.text])), first)
        if (t := self.peek()) is not None and t.text == "?" and min_prec == 0:
            raise Unsupported("conditional expression")
        return left

    def unary(self):
        first = self.i
        t = self.peek()
        if t is not None and t.text in ("!", "-", "+"):
            self.i += 1
            return self._span(("unary", t.text, self.unary()), first)
        if t is not None and t.text == "(" and self._is_cast():
            self.i += 1
            kind = _CASTS[self.take().text]
            self.take(")")
            return self._span(("cast", kind, self.unary()), first)
        node = self._span(self.primary(), first)
        return self._span(self.postfix(node), first)

    def _is_cast(self) -> bool:
        a, b, c = self.peek(1), self.peek(2), self.peek(3)
        return (a is not None and a.text in _CASTS and b is not None and b.text == ")" and c is not None
                and (c.kind in ("id", "num", "str", "chr") or c.text in ("(", "!")))

    def args(self) -> list:
        self.take("(")
        out = []
        if self.peek() is not None and self.peek().text == ")":  # type: ignore[union-attr]
            self.i += 1
            return out
        while True:
            out.append(self.expr(0))
            t = self.take()
            if t.text == ")":
                return out
            if t.text != ",":
                raise Unsupported(f"unexpected {t.text!r} in arguments")

    def _skip_type_args(self) -> None:
        if self.peek() is not None and self.peek().text == "<":  # type: ignore[union-attr]
            depth = 0
            while True:
                t = self.take()
                depth += {"<": 1, ">": -1}.get(t.text, 0)
                if depth == 0:
                    return

    def primary(self):
        t = self.take()
        if t.kind == "num":
            return ("lit", number(t.text))
        if t.kind == "str":
            return ("lit", JScalar("s", unescape(t.text[1:-1])))
        if t.kind == "chr":
            body = unescape(t.text[1:-1])
            if len(body) != 1:
                raise Unsupported("char literal")
            return ("lit", JScalar("C", body))
        if t.text == "(":
            node = self.expr(0)
            self.take(")")
            return node
        if t.kind != "id":
            raise Unsupported(f"unexpected {t.text!r}")
        if t.text in ("true", "false"):
            return ("lit", JScalar("Z", t.text == "true"))
        if t.text == "null":
            return ("lit", None)
        if t.text == "new":
            cls = self.take().text
            if cls not in _NEW:
                raise Unsupported(f"new {cls}")
            self._skip_type_args()
            return ("new", _NEW[cls], self.args())
        nxt, after = self.peek(), self.peek(1)
        if t.text == self.receiver and nxt is not None and nxt.text == "." and after is not None \
                and after.kind == "id" and self.peek(2) is not None and self.peek(2).text == "(":  # type: ignore[union-attr]
            self.i += 2
            start = t.start
            depth = 0
            while True:  # the call's text, as written: it runs in the sandbox
                tok = self.take()
                depth += {"(": 1, ")": -1}.get(tok.text, 0)
                if depth == 0:
                    break
            self.calls.append(self.src[start:tok.end])
            return ("call", len(self.calls) - 1)
        if t.text in _STATIC and nxt is not None and nxt.text == ".":
            self.i += 1
            self._skip_type_args()
            name = self.take().text
            return ("static", f"{t.text}.{name}", self.args())
        return ("name", t.text)

    def postfix(self, node):
        while (t := self.peek()) is not None and t.text == ".":
            self.i += 1
            name = self.take().text
            node = ("method", node, name, self.args())
        return node


def names(node) -> set[str]:
    """The variable names an expression reads."""
    if node[0] == "name":
        return {node[1]}
    out: set[str] = set()
    for part in node[1:]:
        if isinstance(part, tuple):
            out |= names(part)
        elif isinstance(part, list):
            for x in part:
                out |= names(x)
    return out


# ---------------------------------------------------------------- evaluation


def evaluate(node, env: dict):
    """The Java value of an expression; ``env`` binds ``("call", k)`` values as ``env[k]`` and
    names by name. JavaError where Java would throw."""
    op = node[0]
    if op == "lit":
        return node[1]
    if op == "call":
        return env[node[1]]
    if op == "name":
        if node[1] not in env:
            raise Unsupported(f"unknown name {node[1]}")
        return env[node[1]]
    if op == "unary":
        v = evaluate(node[2], env)
        if node[1] == "!":
            return JScalar("Z", not _bool(v))
        n = numeric(v)
        return _num(_kind(v), -n if node[1] == "-" else n)
    if op == "bin":
        return _binary(node[1], node[2], node[3], env)
    if op == "cast":
        return _cast(node[1], evaluate(node[2], env))
    if op == "new":
        args = [evaluate(a, env) for a in node[2]]
        items = _items(args[0]) if args and not isinstance(args[0], JScalar) else ()
        if node[1] == "list":
            return JList(tuple(items))
        if node[1] == "set":
            return JSet(_dedup(items))
        return JMap(tuple(args[0].pairs) if args and isinstance(args[0], JMap) else ())
    if op == "static":
        return _static(node[1], [evaluate(a, env) for a in node[2]])
    if op == "method":
        return _method(evaluate(node[1], env), node[2], [evaluate(a, env) for a in node[3]])
    raise Unsupported(op)


def _bool(v) -> bool:
    if isinstance(v, JScalar) and v.kind == "Z":
        return bool(v.value)
    if v is None:
        raise JavaError("NullPointerException")
    raise JavaError("not a boolean")


def _kind(v) -> str:
    k = v.kind
    return "I" if k in "SBC" else k


def _promote(a: str, b: str) -> str:
    for k in "DFJ":
        if k in (a, b):
            return k
    return "I"


def _num(kind: str, n) -> JScalar:
    if kind == "I":
        n = (int(n) + (1 << 31)) % (1 << 32) - (1 << 31)
    elif kind == "J":
        n = (int(n) + (1 << 63)) % (1 << 64) - (1 << 63)
    else:
        n = float(n)
    return JScalar(kind, n)


def _binary(op: str, ln, rn, env):
    if op in ("&&", "||"):
        left = _bool(evaluate(ln, env))
        if left == (op == "||"):
            return JScalar("Z", left)
        return JScalar("Z", _bool(evaluate(rn, env)))
    a, b = evaluate(ln, env), evaluate(rn, env)
    if op in ("==", "!="):
        return JScalar("Z", jsame(a, b) == (op == "=="))
    if op == "+" and any(isinstance(x, JScalar) and x.kind == "s" for x in (a, b)):
        from codemind.judges.java_values import to_string

        sa, sb = to_string(a), to_string(b)
        if sa is None or sb is None:
            raise Unsupported("string concatenation")
        return JScalar("s", sa + sb)
    x, y = numeric(a), numeric(b)
    kind = _promote(_kind(a), _kind(b))
    if op in ("<", ">", "<=", ">="):
        return JScalar("Z", {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op])
    if kind in "IJ":
        if op in "/%" and y == 0:
            raise JavaError("ArithmeticException")
        if op == "/":
            q = abs(x) // abs(y)
            return _num(kind, q if (x >= 0) == (y >= 0) else -q)
        if op == "%":
            r = abs(x) % abs(y)
            return _num(kind, r if x >= 0 else -r)
    else:
        x, y = float(x), float(y)
        if op == "/":
            return _num(kind, _fdiv(x, y))
        if op == "%":
            return _num(kind, math.fmod(x, y) if y != 0 else math.nan)
    return _num(kind, {"+": x + y, "-": x - y, "*": x * y}[op])


def _fdiv(x: float, y: float) -> float:
    if y == 0:
        if x == 0 or x != x:
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1, y)
    return x / y


def _cast(kind: str, v):
    """A cast of a value whose static type is Object (what the checks cast: Optional<Object>.get(),
    Object results): it must be of that class; a number of another class is ClassCastException."""
    if kind == "*" or v is None:
        return v
    if isinstance(v, JScalar) and v.kind == kind:
        return v
    raise JavaError("ClassCastException")


def _items(v) -> tuple:
    if isinstance(v, (JList, JSet, JArray)):
        return v.items
    if v is None:
        raise JavaError("NullPointerException")
    raise Unsupported("not a collection")


def _dedup(items) -> tuple:
    out: list = []
    for x in items:
        if not any(_eq(x, y) for y in out):
            out.append(x)
    return tuple(out)


def _static(name: str, args: list):
    if name in ("Arrays.asList", "List.of"):
        if name == "List.of" and any(a is None for a in args):
            raise JavaError("NullPointerException")
        return JList(tuple(args))
    if name == "Set.of":
        return JSet(tuple(args))
    if name == "Collections.emptyList":
        return JList(())
    if name == "Map.of" and len(args) % 2 == 0:
        return JMap(tuple(zip(args[::2], args[1::2])))
    if name == "Optional.of" and len(args) == 1:
        if args[0] is None:
            raise JavaError("NullPointerException")
        return JOptional(True, args[0])
    if name == "Optional.ofNullable" and len(args) == 1:
        return JOptional(args[0] is not None, args[0])
    if name == "Optional.empty" and not args:
        return JOptional(False)
    if name == "Objects.equals" and len(args) == 2:
        return JScalar("Z", _eq(args[0], args[1]) if args[0] is not None else args[1] is None)
    if name == "String.valueOf" and len(args) == 1 and not (isinstance(args[0], JScalar) and args[0].kind in "DF"):
        from codemind.judges.java_values import to_string

        return JScalar("s", to_string(args[0]))
    if name == "Math.abs" and len(args) == 1:
        v = args[0]
        return _num(_kind(v) if isinstance(v, JScalar) else "I", abs(numeric(v)))
    raise Unsupported(name)


def _method(recv, name: str, args: list):
    if recv is None:
        raise JavaError("NullPointerException")
    if name == "equals" and len(args) == 1:
        return JScalar("Z", jequals(recv, args[0]))
    if isinstance(recv, JOptional):
        if name == "get" and not args:
            if not recv.present:
                raise JavaError("NoSuchElementException")
            return recv.value
        if name in ("isEmpty", "isPresent") and not args:
            return JScalar("Z", (not recv.present) == (name == "isEmpty"))
    if isinstance(recv, (JList, JSet, JMap)) or (isinstance(recv, JScalar) and recv.kind == "s"):
        size = len(recv.value) if isinstance(recv, JScalar) else len(  # type: ignore[arg-type]
            recv.pairs if isinstance(recv, JMap) else recv.items)
        if name == "isEmpty" and not args:
            return JScalar("Z", size == 0)
        if name in ("size", "length") and not args:
            return JScalar("I", size)
    if isinstance(recv, JList) and name == "get" and len(args) == 1:
        k = numeric(args[0])
        if not (isinstance(args[0], JScalar) and args[0].kind in INTEGRAL) or not 0 <= k < len(recv.items):
            raise JavaError("IndexOutOfBoundsException")
        return recv.items[k]
    if isinstance(recv, (JList, JSet)) and name == "contains" and len(args) == 1:
        return JScalar("Z", any(_eq(args[0], x) for x in recv.items))
    if isinstance(recv, JMap) and name == "get" and len(args) == 1:
        return next((v for k, v in recv.pairs if _eq(k, args[0])), None)
    raise Unsupported(f"method {name}")


def run_setup(statements: list[str], env: dict) -> None:
    """Interpret set-up statements of a test (``Map<String, Integer> m = new HashMap<>();``,
    ``m.put("a", 1);``, ``l.add(2);``) into env; Unsupported on any other statement."""
    decl = re.compile(r"^[\w<>\[\],.?\s]+?\s+([A-Za-z_]\w*)\s*=\s*(.+)$", re.S)
    for stmt in statements:
        m = decl.match(stmt)
        if m:
            env[m.group(1)] = evaluate(Parser(m.group(2), None).parse(), env)
            continue
        node = Parser(stmt, None).parse()
        if node[0] != "method" or node[1][0] != "name" or node[1][1] not in env:
            raise Unsupported(f"statement {stmt[:60]!r}")
        target, name = node[1][1], node[2]
        args = [evaluate(a, env) for a in node[3]]
        cur = env[target]
        if isinstance(cur, JMap) and name == "put" and len(args) == 2:
            env[target] = JMap(tuple((k, v) for k, v in cur.pairs if not _eq(k, args[0])) + ((args[0], args[1]),))
        elif isinstance(cur, JList) and name == "add" and len(args) == 1:
            env[target] = JList(cur.items + (args[0],))
        elif isinstance(cur, JSet) and name == "add" and len(args) == 1:
            env[target] = JSet(_dedup(cur.items + (args[0],)))
        else:
            raise Unsupported(f"statement {stmt[:60]!r}")
