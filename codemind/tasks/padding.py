"""DSR's padding: a seeded, ast-based transform that adds code which does not change what a
Python program does (CodeMind's DSR shows the model such a program and asks for a shorter one).

What it adds (the pieces are data: codemind/tasks/snippets/padding.py):

- ``import``: unused imports of stdlib modules that have no import-time side effects;
- ``decorator``: a no-op decorator (``my_decorator``: calls the function, returns its value)
  on module-level functions and methods that have no decorator and do not call themselves
  (a wrapper frame per recursive call could reach the recursion limit);
- ``dead_call``: a pure call whose value is dropped (``len([3, 1, 4])``,
  ``hashlib.sha256(b'...').hexdigest()``...) at module level, at the start of functions and
  inside the decorator;
- ``helper``: a binary operation ``a OP b`` in a function or at module level replaced by a call
  of a helper ``newFunc<k>(a, b)`` that returns ``arg0 OP arg1`` (operands are evaluated in the
  same order, the same exception propagates).

Nothing added prints, reads input, draws random numbers, reads the clock or catches an
exception. A piece is used only when every name it binds or needs is free in the program (no
identifier of the program has that name), so nothing is shadowed. The result is the program
``ast.unparse``-d (as the authors' transformed programs are: comments are dropped), and it
must parse and have more lines of code than the original, both counted as ``ast.unparse``
writes them (codemind/tasks/loc.py normalized_loc).

`pad(source, key, seed, attempt)` is deterministic: the random stream is seeded by (seed,
key, attempt), so a program pads the same way whatever else is in the run. Attempts use fewer
kinds of padding (0: all four; 1: no helpers; 2: imports and dead calls only), for programs
whose padding did not pass verification by execution (tasks/dsr.py does that).
"""

from __future__ import annotations

import ast
import copy
import hashlib
import random
from dataclasses import dataclass, field
from functools import cache

from codemind import resources
from codemind.tasks.loc import normalized_loc

TRANSFORM = "codemind-dsr-padding/v1"
ATTEMPTS = 3
KINDS_BY_ATTEMPT = (("import", "dead_call", "decorator", "helper"), ("import", "dead_call", "decorator"),
                    ("import", "dead_call"))


class PaddingError(Exception):
    """The program cannot be padded (does not parse, or nothing could be added)."""


@dataclass(frozen=True)
class Parts:
    imports: tuple[ast.stmt, ...]
    decorator: ast.FunctionDef
    helper: ast.FunctionDef
    dead_calls: tuple[ast.Expr, ...]


@cache
def parts() -> Parts:
    tree = ast.parse(resources.text("codemind.tasks", "snippets/padding.py"))
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    return Parts(
        imports=tuple(n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))),
        decorator=defs["my_decorator"],
        helper=defs["newFunc"],
        dead_calls=tuple(n for n in defs["dead_calls"].body if isinstance(n, ast.Expr)),
    )


@dataclass
class Padded:
    source: str
    seed: int
    attempt: int
    applied: list[str] = field(default_factory=list)
    loc_original: int = 0
    loc_padded: int = 0

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()

    def record(self) -> dict:
        return {"seed": self.seed, "attempt": self.attempt, "applied": list(self.applied), "sha256": self.sha256,
                "loc_original": self.loc_original, "loc_padded": self.loc_padded}


def identifiers(tree: ast.AST) -> set[str]:
    """Every name the program binds or reads, its attributes' names and its string constants that
    look like names (getattr(x, 'name'), globals()['name']): a padding name must be none of them."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.alias):
            out.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            out.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            out.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            out.add(node.rest)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            out.add(node.value)
    return out


def _needs(node: ast.AST) -> set[str]:
    """The free names a padding piece reads (builtins included)."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _binds(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    return set()


class Fresh:
    """Fresh names, none of them taken (updated as they are handed out)."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)

    def __call__(self, base: str) -> str:
        name, k = base, 0
        while name in self.taken:
            k += 1
            name = f"{base}{k}"
        self.taken.add(name)
        return name


def _calls_itself(fn: ast.FunctionDef) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and node.id == fn.name:
            return True
        if isinstance(node, ast.Attribute) and node.attr == fn.name:
            return True
    return False


def _body_start(body: list[ast.stmt]) -> int:
    """Where statements may be inserted in a body: after its docstring."""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return 1
    return 0


def _module_start(tree: ast.Module) -> int:
    i = _body_start(tree.body)
    while i < len(tree.body) and isinstance(tree.body[i], ast.ImportFrom) and tree.body[i].module == "__future__":
        i += 1
    return i


def _functions(tree: ast.Module) -> list[tuple[ast.FunctionDef, str]]:
    """Module-level functions and methods of module-level classes, with a label."""
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out.append((node, node.name))
        elif isinstance(node, ast.ClassDef):
            out += [(m, f"{node.name}.{m.name}") for m in node.body if isinstance(m, ast.FunctionDef)]
    return out


_SKIP_DECORATING = {"__new__", "__init_subclass__", "__class_getitem__", "__set_name__"}


class _BinOps(ast.NodeVisitor):
    """Binary operations that may become helper calls: inside function bodies or module-level
    statements, not in annotations or class bodies (outside their methods)."""

    def __init__(self):
        self.found: list[ast.BinOp] = []

    def visit_BinOp(self, node: ast.BinOp):
        self.found.append(node)
        self.generic_visit(node)

    def visit_arg(self, node: ast.arg):
        return  # annotations

    def visit_AnnAssign(self, node: ast.AnnAssign):
        if node.value is not None:
            self.visit(node.value)

    def visit_FunctionDef(self, node: ast.FunctionDef):
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef):
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.visit(stmt)

    def visit_JoinedStr(self, node: ast.JoinedStr):
        return  # f-strings: keep them as written


class _Replace(ast.NodeTransformer):
    def __init__(self, targets: dict[int, str]):
        self.targets = targets

    def visit_BinOp(self, node: ast.BinOp):
        self.generic_visit(node)
        name = self.targets.get(id(node))
        if name is None:
            return node
        return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=[node.left, node.right], keywords=[])


def pad(source: str, key: str, seed: int = 0, attempt: int = 0) -> Padded:
    """The padded program (see the module docstring). Raises PaddingError."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise PaddingError(f"does not parse: {type(e).__name__}") from None
    kinds = KINDS_BY_ATTEMPT[min(attempt, len(KINDS_BY_ATTEMPT) - 1)]
    rng = random.Random(f"{TRANSFORM}/{seed}/{key}/{attempt}")
    p = parts()
    names = Fresh(identifiers(tree))
    star = any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(tree))
    applied: list[str] = []
    top: list[ast.stmt] = []  # inserted at the module's start, in this order

    # imports: the free ones; those a dead call needs are added with it
    free_imports = [s for s in p.imports if not (_binds(s) & names.taken)]
    imported: set[str] = set()

    def need_import(stmt: ast.stmt) -> None:
        bound = _binds(stmt)
        if not bound <= imported:
            top.append(copy.deepcopy(stmt))
            imported.update(bound)
            applied.append(f"import: {ast.unparse(stmt)}")

    if "import" in kinds and free_imports:
        for stmt in rng.sample(free_imports, k=min(len(free_imports), rng.randint(1, 3))):
            need_import(stmt)

    by_name = {n: s for s in free_imports for n in _binds(s)}

    def dead_call() -> ast.Expr | None:
        usable = [c for c in p.dead_calls
                  if not star and all(n in by_name or (_is_builtin(n) and n not in names.taken) for n in _needs(c))]
        if not usable:
            return None
        call = rng.choice(usable)
        for n in sorted(_needs(call)):
            if n in by_name:
                need_import(by_name[n])
        return copy.deepcopy(call)

    helpers: list[ast.stmt] = []
    if "helper" in kinds:
        finder = _BinOps()
        finder.visit(tree)
        chosen = rng.sample(finder.found, k=min(len(finder.found), rng.randint(1, 2))) if finder.found else []
        targets: dict[int, str] = {}
        for node in chosen:
            name = names("newFunc")
            helper = copy.deepcopy(p.helper)
            helper.name = name
            ret = helper.body[-1]
            assert isinstance(ret, ast.Return) and isinstance(ret.value, ast.BinOp)
            ret.value.op = copy.deepcopy(node.op)
            helpers.append(helper)
            targets[id(node)] = name
            applied.append(f"helper: {name} for `{ast.unparse(node)[:80]}` (line {node.lineno})")
        if targets:
            tree = _Replace(targets).visit(tree)

    decorator: ast.FunctionDef | None = None
    if "decorator" in kinds:
        candidates = [(fn, label) for fn, label in _functions(tree)
                      if not fn.decorator_list and fn.name not in _SKIP_DECORATING and not _calls_itself(fn)]
        if candidates:
            decorator = copy.deepcopy(p.decorator)
            decorator.name = names("my_decorator")
            inner = decorator.body[0]
            assert isinstance(inner, ast.FunctionDef)
            inner.name = names("dec_result")
            # the decorator's own variables are local to it: they shadow nothing of the program
            call = dead_call() if "dead_call" in kinds else None
            if call is not None:
                decorator.body.insert(1, call)
                applied.append(f"dead_call: `{ast.unparse(call)}` in {decorator.name}")
            for fn, label in rng.sample(candidates, k=min(len(candidates), rng.randint(1, 2))):
                fn.decorator_list.append(ast.Name(id=decorator.name, ctx=ast.Load()))
                applied.append(f"decorator: @{decorator.name} on {label}")

    body_calls: list[tuple[list[ast.stmt], ast.Expr]] = []
    if "dead_call" in kinds:
        functions = _functions(tree)
        for fn, label in rng.sample(functions, k=min(len(functions), rng.randint(1, 2))) if functions else []:
            call = dead_call()
            if call is not None:
                body_calls.append((fn.body, call))
                applied.append(f"dead_call: `{ast.unparse(call)}` in {label}")
        call = dead_call()
        if call is not None:
            helpers.append(call)  # module level, after the definitions it may need
            applied.append(f"dead_call: `{ast.unparse(call)}` at module level")

    for body, call in body_calls:
        body.insert(_body_start(body), call)
    block = top + [h for h in helpers if isinstance(h, ast.FunctionDef)]
    if decorator is not None:
        block.append(decorator)
    block += [h for h in helpers if not isinstance(h, ast.FunctionDef)]
    if not applied:
        raise PaddingError("nothing to add: every padding name is taken")
    start = _module_start(tree)
    tree.body[start:start] = block
    ast.fix_missing_locations(tree)
    try:
        text = ast.unparse(tree) + "\n"
        compile(text, "<padded>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise PaddingError(f"padded program does not compile: {type(e).__name__}: {e}") from None
    before, after = normalized_loc(source), normalized_loc(text)
    if before is None or after is None or after <= before:
        raise PaddingError(f"padding did not add lines of code ({before} -> {after})")
    return Padded(source=text, seed=seed, attempt=attempt, applied=applied, loc_original=before, loc_padded=after)


def _is_builtin(name: str) -> bool:
    import builtins

    return hasattr(builtins, name)
