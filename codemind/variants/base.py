"""Program variants: seeded source transforms that keep what a program does (``same``: renamed
identifiers, reordered statements, loops and branches rewritten, dead code, misleading
comments...) or change it a little (``changed``: mutants). A model that sees HumanEval again
under new names and still answers is reasoning; one that answers a mutant with the original
program's output is remembering.

A kind is one registry line naming its transform for each language it supports (a function
``transform(target, rng) -> str``, imported only when used). A transform never decides that
its result is right: every variant is executed on every input and kept only when its outputs
are identical (mutants: when at least one differs) -- codemind/variants/build.py.
"""

from __future__ import annotations

import hashlib
import importlib
import random
from dataclasses import dataclass, field
from typing import Callable, Literal

from codemind.registry import Registry

Behaviour = Literal["same", "changed"]


class NotApplicable(Exception):
    """The transform finds nothing to change in this program; the message says why (it is the
    reason the variant is dropped, counted per kind in the manifest)."""


@dataclass(frozen=True)
class Target:
    """What a transform sees of a program."""

    source: str
    language: str  # "python" | "java"
    kind: str  # "function" | "stdin"
    entry_point: str | None  # the function the inputs call (its name must stay)
    calls: tuple[str, ...] = ()  # the inputs' call expressions (names they use must stay)
    keep_names: frozenset[str] = frozenset()  # other names that must stay (a class under test, its methods)


Transform = Callable[[Target, random.Random], str]


@dataclass(frozen=True)
class VariantKind:
    """One kind of variant: its name, whether it keeps behaviour, and its transform per
    language as ``"module:function"`` (lazy)."""

    name: str
    behaviour: Behaviour
    description: str
    transforms: dict[str, str] = field(default_factory=dict)  # language -> "module:function"

    def languages(self) -> list[str]:
        return sorted(self.transforms)

    def transform_for(self, language: str) -> Transform | None:
        spec = self.transforms.get(language)
        if spec is None:
            return None
        module, _, attr = spec.partition(":")
        return getattr(importlib.import_module(module), attr)


def rng_for(seed: int, program_key: str, kind: str, attempt: int = 0) -> random.Random:
    """The random stream of one (program, kind, attempt): a program's variant does not depend
    on what else is in the run."""
    digest = hashlib.sha256(f"variant/v1|{seed}|{program_key}|{kind}|{attempt}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


VARIANTS: Registry[VariantKind] = Registry("variant")


def _kind(name: str, behaviour: Behaviour, description: str, python: str | None = None, java: str | None = None):
    transforms = {lang: spec for lang, spec in (("python", python), ("java", java)) if spec}
    VARIANTS.register(name, VariantKind(name, behaviour, description, transforms))


P, J = "codemind.variants.python", "codemind.variants.java"
_kind("rename", "same", "identifiers renamed to neutral names (v0, v1, ...)",
      f"{P}.names:rename_neutral", f"{J}.names:rename_neutral")
_kind("rename-misleading", "same", "identifiers renamed to plausible names that suggest another meaning",
      f"{P}.names:rename_misleading", f"{J}.names:rename_misleading")
_kind("reorder", "same", "independent adjacent statements swapped",
      f"{P}.reorder:reorder", f"{J}.reorder:reorder")
_kind("loop", "same", "for loops rewritten as while loops (and while as for where possible)",
      f"{P}.loops:for_while", f"{J}.loops:for_while")
_kind("branch", "same", "if/else swapped under the negated condition",
      f"{P}.branches:swap_if_else", f"{J}.branches:swap_if_else")
_kind("expression", "same", "expressions rewritten into equivalent forms",
      f"{P}.expressions:rewrite", f"{J}.expressions:rewrite")
_kind("dead-code", "same", "dead statements and decoy branches that never run",
      f"{P}.dead_code:insert", f"{J}.dead_code:insert")
_kind("comments", "same", "misleading comments and docstrings",
      f"{P}.comments:mislead", f"{J}.comments:mislead")
_kind("padding", "same", "DSR's padding: unused imports, no-op decorators, dead calls, helper functions",
      f"{P}.padding:pad", f"{J}.padding:pad")
_kind("mutant-operator", "changed", "one operator replaced (+ -> -, < -> <=, and -> or, ...)",
      f"{P}.mutants:operator", f"{J}.mutants:operator")
_kind("mutant-constant", "changed", "one constant changed (n -> n+1, a string altered, True -> False)",
      f"{P}.mutants:constant", f"{J}.mutants:constant")
_kind("mutant-boundary", "changed", "one boundary moved (range end, slice bound, comparison off by one)",
      f"{P}.mutants:boundary", f"{J}.mutants:boundary")
