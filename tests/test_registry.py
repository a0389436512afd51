"""Registries: one line per entry (`register(name, lazy="module:Attribute")`), imported on first
use, unknown names a one-line error listing the known ones."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cli_helpers import assert_one_line_error, codemind

from codemind.benchmarks.base import BENCHMARKS
from codemind.errors import UserError
from codemind.judges.base import JUDGES
from codemind.models.base import BACKENDS
from codemind.registry import Registry, UnknownName
from codemind.sandbox.base import SANDBOXES
from codemind.tasks.base import TASKS
from codemind.tasks.extract import EXTRACTORS

ALL = [BENCHMARKS, TASKS, JUDGES, BACKENDS, SANDBOXES]


@pytest.mark.parametrize("registry", ALL, ids=lambda r: r.kind)
def test_every_entry_resolves_to_a_class_of_that_name(registry):
    for name in registry.names():
        cls = registry.get(name)
        assert isinstance(cls, type) and cls.name == name, (registry.kind, name, cls)


def test_every_extractor_resolves_to_a_function():
    assert "code" in EXTRACTORS and "codemind" in EXTRACTORS
    for name in EXTRACTORS.names():
        assert callable(EXTRACTORS.get(name))
        assert EXTRACTORS.get(name)("") is None  # blank text is no answer for every extractor


def test_lazy_entries_import_nothing_until_asked():
    code = ("import sys; from codemind.models.base import BACKENDS; from codemind.judges.base import JUDGES; "
            "names = BACKENDS.names() + JUDGES.names(); "
            "print(any(m in sys.modules for m in ('codemind.models.openai_api', 'codemind.judges.tests')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_name_message_lists_the_known_names():
    with pytest.raises(UnknownName) as e:
        JUDGES.get("nope")
    assert str(e.value) == f"unknown judge 'nope' (known: {', '.join(JUDGES.names())})"
    assert isinstance(e.value, KeyError) and isinstance(e.value, UserError)
    with pytest.raises(UserError, match=r"^unknown extractor 'nope' \(known: code, codemind, "):
        EXTRACTORS.get("nope")


def test_register_one_line_forms():
    reg: Registry = Registry("widget")
    reg.register("dict", lazy="collections:OrderedDict")
    reg.register("path", lazy="os.path:join")
    reg.register("here", len)
    assert reg.names() == ["dict", "here", "path"] and "dict" in reg and "nope" not in reg
    import collections
    import os

    assert reg.get("dict") is collections.OrderedDict and reg["path"] is os.path.join and reg.get("here") is len
    reg.register("dict", lazy="collections:OrderedDict")  # the same line twice is harmless
    with pytest.raises(ValueError, match="widget 'dict' is already registered"):
        reg.register("dict", lazy="collections:Counter")
    with pytest.raises(ValueError, match="not 'module:Attribute'"):
        reg.register("bad", lazy="collections.Counter")
    with pytest.raises(TypeError):
        reg.register("both", len, lazy="os:getcwd")
    reg.unregister("here")
    assert "here" not in reg


def test_a_typo_in_a_lazy_line_fails_loudly_when_used():
    reg: Registry = Registry("widget")
    reg.register("gone", lazy="collections:NoSuchThing")
    with pytest.raises(AttributeError):
        reg.get("gone")


@pytest.mark.parametrize("args,pattern", [
    (["run", "--benchmark", "nope", "--model", "replay:x"], "unknown benchmark 'nope' (known: avatar"),
    (["run", "--benchmark", "cruxeval", "--judge", "nope", "--model", "replay:x"], "unknown judge 'nope' (known:"),
    (["run", "--benchmark", "cruxeval", "--model", "nope:x"], "unknown model backend 'nope' (known:"),
    (["run", "--benchmark", "cruxeval", "--task", "nope", "--model", "replay:x"],
     "invalid --task: unknown task 'nope' (known: der, dsr, ier, input, sr, trace)"),
    (["run", "--benchmark", "cruxeval", "--sandbox", "nope", "--model", "replay:x"],
     "invalid --sandbox: unknown sandbox 'nope' (known: docker, process)"),
])
def test_cli_unknown_names_are_one_line_exit_2(args, pattern, data_dir):
    assert_one_line_error(codemind(*args), pattern)
