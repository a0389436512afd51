"""Name -> object registries with lazy module imports.

A registry entry is one line naming where the object lives::

    BENCHMARKS.register("humaneval", lazy="codemind.benchmarks.humaneval:HumanEval")

The module is imported only when the name is asked for (``get``), so heavy providers (vllm,
llama_cpp, docker) cost nothing until used, and listing the names (``names``, the CLI's error
messages) imports nothing. ``register(name, obj)`` registers an object already at hand (tests,
plug-ins loaded by other means). A new benchmark, task, judge, backend, sandbox or answer
extractor is its module plus one such line: see docs/architecture.md, "Adding a task / judge /
backend".

A name of the form ``prefix:ARG`` registers a parameterised entry: ``get("prefix:x")`` returns
that entry with the keyword argument ``arg="x"`` bound (``file:PATH`` -> ``path=...``), so a
benchmark read from a user's file is still one registry line.
"""

from __future__ import annotations

import functools
import importlib
from typing import Generic, Iterator, TypeVar

from codemind.errors import UserError

T = TypeVar("T")


class UnknownName(KeyError, UserError):
    """Raised for a name nothing registers; the message lists the known names."""

    def __str__(self) -> str:  # KeyError quotes its message; we want plain text
        return str(self.args[0])


class _Lazy:
    """Where a registered object lives, imported on first use: ``"package.module:Attribute"``."""

    __slots__ = ("module", "attr")

    def __init__(self, spec: str):
        module, sep, attr = spec.partition(":")
        if not (sep and module and attr):
            raise ValueError(f"lazy registration '{spec}' is not 'module:Attribute'")
        self.module, self.attr = module, attr

    def load(self):
        obj = importlib.import_module(self.module)
        for part in self.attr.split("."):
            obj = getattr(obj, part)
        return obj

    def __eq__(self, other) -> bool:
        return isinstance(other, _Lazy) and (self.module, self.attr) == (other.module, other.attr)

    def __repr__(self) -> str:
        return f"{self.module}:{self.attr}"


class Registry(Generic[T]):
    """Names of one kind (``kind`` is what error messages call them: "benchmark", "task")."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T | _Lazy] = {}  # what was registered
        self._loaded: dict[str, T] = {}  # lazy entries already imported

    def register(self, name: str, obj: T | None = None, *, lazy: str | None = None) -> None:
        """Register ``obj`` (an object at hand) or ``lazy`` ("module:Attribute", imported when
        the name is first asked for) under ``name``. Registering a name twice is an error unless
        it names the same thing."""
        if (obj is None) == (lazy is None):
            raise TypeError("register(name, obj) or register(name, lazy='module:Attribute'), not both or neither")
        entry: T | _Lazy = _Lazy(lazy) if lazy is not None else obj  # type: ignore[assignment]
        old = self._entries.get(name)
        if old is not None and old is not entry and old != entry:
            raise ValueError(f"{self.kind} '{name}' is already registered ({old!r})")
        self._entries[name] = entry
        self._loaded.pop(name, None)

    def unregister(self, name: str) -> None:
        """Forget a name (tests that register a throwaway entry clean up with this)."""
        self._entries.pop(name, None)
        self._loaded.pop(name, None)

    def names(self) -> list[str]:
        """The plain names (parameterised ``prefix:ARG`` entries are in ``patterns()``)."""
        return sorted(k for k in self._entries if ":" not in k)

    def patterns(self) -> list[str]:
        """The parameterised entries, as registered: ``file:PATH``."""
        return sorted(k for k in self._entries if ":" in k)

    def get(self, name: str) -> T:
        key, arg = name, None
        if ":" in name and name not in self._entries:
            prefix, _, arg = name.partition(":")
            key = next((k for k in self.patterns() if k.partition(":")[0] == prefix), name)
        try:
            entry = self._entries[key]
        except KeyError:
            raise UnknownName(
                f"unknown {self.kind} '{name}' (known: {', '.join(self.names() + self.patterns())})"
            ) from None
        if isinstance(entry, _Lazy):
            if key not in self._loaded:
                self._loaded[key] = entry.load()
            entry = self._loaded[key]
        if arg is None:
            return entry
        keyword = key.partition(":")[2].lower()
        return functools.partial(entry, **{keyword: arg})  # type: ignore[return-value]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __len__(self) -> int:
        return len(self._entries)
