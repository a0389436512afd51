"""The one interface every benchmark adapter implements: load Programs.

Adapters read from a data directory laid out like ../shared/data (CODEMIND_DATA or
--data-dir) or download the canonical file, pinned by sha256, into ~/.cache/codemind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from codemind.errors import UserError
from codemind.registry import Registry
from codemind.schema import Language, Program


class Benchmark(ABC):
    name: str = "abstract"
    languages: tuple[Language, ...] = ("python",)

    def __init__(self, data_dir: Path | None = None, language: Language = "python", **options):
        if language not in self.languages:
            raise UserError(
                f"benchmark {self.name} has no {language} programs (languages: {', '.join(self.languages)})"
            )
        self.data_dir = data_dir
        self.language = language
        self.options = options
        self._files: dict[str, str] = {}  # what load() read -> sha256

    @abstractmethod
    def load(self) -> list[Program]:
        """Every program of the benchmark, in a stable order."""

    def data_files(self) -> dict[str, str]:
        """Data file -> sha256 of what load() read, for the run manifest."""
        return dict(self._files)

    def content_digest(self) -> str | None:
        """A digest of data the benchmark's name does not pin, for the run's configuration hash:
        None for the built-in benchmarks (their manifests pin every file by sha256), the
        file's sha256 for ``file:PATH``."""
        return None


BENCHMARKS: Registry[type[Benchmark]] = Registry("benchmark")
BENCHMARKS.register("humaneval", lazy="codemind.benchmarks.humaneval:HumanEval")
BENCHMARKS.register("mbpp", lazy="codemind.benchmarks.mbpp:MbppSanitized")
BENCHMARKS.register("mbpp-full", lazy="codemind.benchmarks.mbpp:MbppFull")
BENCHMARKS.register("cruxeval", lazy="codemind.benchmarks.cruxeval:CruxEval")
BENCHMARKS.register("codenet", lazy="codemind.benchmarks.codenet:CodeNet")
BENCHMARKS.register("codenet-plt", lazy="codemind.benchmarks.codenet:CodeNetPLT")
BENCHMARKS.register("avatar", lazy="codemind.benchmarks.avatar:Avatar")
BENCHMARKS.register("avatar-latest", lazy="codemind.benchmarks.avatar:AvatarLatest")
BENCHMARKS.register("avatar-full", lazy="codemind.benchmarks.avatar:AvatarFull")
BENCHMARKS.register("classeval", lazy="codemind.benchmarks.classeval:ClassEval")
BENCHMARKS.register("humaneval-x", lazy="codemind.benchmarks.humaneval_x:HumanEvalX")
BENCHMARKS.register("file:PATH", lazy="codemind.benchmarks.file:ProgramsFile")  # your own programs (JSONL)
