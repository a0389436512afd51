"""Name -> factory registries, filled by decorators, with lazy module imports.

A new benchmark, judge, backend, sandbox or task is one module that decorates its class
plus one line in the registry's ``modules`` map naming where it lives; the module is only
imported when its name is asked for, so heavy providers (vllm, llama_cpp, docker) cost
nothing until used.

A name of the form ``prefix:ARG`` registers a parameterised entry: ``get("prefix:x")`` returns
that entry with the keyword argument ``arg="x"`` bound (``file:PATH`` -> ``path=...``), so a
benchmark read from a user's file is still one registry line.
"""

from __future__ import annotations

import functools
import importlib

from codemind.errors import UserError
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class UnknownName(KeyError, UserError):
    """Raised for a name no module registers; the message lists the known names."""

    def __str__(self) -> str:  # KeyError quotes its message; we want plain text
        return str(self.args[0])


class Registry(Generic[T]):
    def __init__(self, kind: str, modules: dict[str, str]):
        self.kind = kind
        self.modules = dict(modules)  # name -> module path that registers it
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            self._entries[name] = obj
            return obj

        return deco

    def _keys(self) -> set[str]:
        return set(self.modules) | set(self._entries)

    def names(self) -> list[str]:
        """The plain names (parameterised ``prefix:ARG`` entries are in ``patterns()``)."""
        return sorted(k for k in self._keys() if ":" not in k)

    def patterns(self) -> list[str]:
        """The parameterised entries, as registered: ``file:PATH``."""
        return sorted(k for k in self._keys() if ":" in k)

    def get(self, name: str) -> T:
        if ":" not in name:
            if name not in self._entries and name in self.modules:
                importlib.import_module(self.modules[name])
            if name in self._entries:
                return self._entries[name]
        else:
            prefix, _, arg = name.partition(":")
            pattern = next((k for k in self.patterns() if k.partition(":")[0] == prefix), None)
            if pattern is not None:
                if pattern not in self._entries:
                    importlib.import_module(self.modules[pattern])
                keyword = pattern.partition(":")[2].lower()
                return functools.partial(self._entries[pattern], **{keyword: arg})  # type: ignore[return-value]
        known = ", ".join(self.names() + self.patterns())
        raise UnknownName(f"unknown {self.kind} '{name}' (known: {known})")
