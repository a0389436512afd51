"""Name -> factory registries, filled by decorators, with lazy module imports.

A new benchmark, judge, backend, sandbox or task is one module that decorates its class
plus one line in the registry's ``modules`` map naming where it lives; the module is only
imported when its name is asked for, so heavy providers (vllm, llama_cpp, docker) cost
nothing until used.
"""

from __future__ import annotations

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

    def names(self) -> list[str]:
        return sorted(set(self.modules) | set(self._entries))

    def get(self, name: str) -> T:
        if name not in self._entries and name in self.modules:
            importlib.import_module(self.modules[name])
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownName(
                f"unknown {self.kind} '{name}' (known: {', '.join(self.names())})"
            ) from None
