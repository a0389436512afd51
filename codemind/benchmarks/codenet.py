"""CodeNet stdin programs, Python and Java.

- ``codenet``: CodeMind's paper set (1,939 Python + 1,914 Java; ``paper_v1_2024-02/CodeNet-*``),
  one item folder per program (``main.py``/``Main.java``, ``input.txt``, ``output.txt``); the
  program id is the folder name, as in CodeMind's recorded generations.
- ``codenet-plt``: the 200 + 200 accepted submissions of PLTranslationEmpirical
  (``codenet/plt-empirical``), one test each; the id is the submission id.

``output.txt`` is noisy (often the judge's reference output; 88 "Python" programs are
Python 2, marked ``meta["python2"]``), so ground truth re-executes every program.
"""

from __future__ import annotations

from pathlib import Path

from codemind.benchmarks.base import Benchmark
from codemind.benchmarks.stdin_common import ListedFiles, mirror_root, stdin_program, verify_folder
from codemind.errors import UserError
from codemind.schema import Program

PAPER = "codemind/paper_v1_2024-02"
FOLDER = {"python": "CodeNet-Python", "java": "CodeNet-Java"}
SOURCE_FILE = {"python": "main.py", "java": "Main.java"}


def read_item_folder(folder: Path, source_name: str | None = None) -> tuple[str, str, str | None, str]:
    """(source, stdin, stated stdout, source file name) of one CodeMind item folder."""
    if source_name is None:
        sources = sorted(p.name for p in folder.iterdir() if p.suffix in (".py", ".java"))
        if len(sources) != 1:
            raise UserError(f"item folder {folder} has {len(sources)} source files, expected 1")
        source_name = sources[0]
    label = folder / "output.txt"
    return (
        (folder / source_name).read_text(encoding="utf-8"),
        (folder / "input.txt").read_text(encoding="utf-8"),
        label.read_text(encoding="utf-8") if label.is_file() else None,
        source_name,
    )


class CodeNet(Benchmark):
    name = "codenet"
    languages = ("python", "java")

    def __init__(self, data_dir=None, language="python", **options):
        super().__init__(data_dir, language, **options)

    def load(self) -> list[Program]:
        root = mirror_root(self.data_dir, self.name)
        rel = f"{PAPER}/{FOLDER[self.language]}"
        self._files = {rel: verify_folder(root, self.name, rel)}
        programs = []
        for folder in sorted(p for p in (root / rel).iterdir() if p.is_dir()):
            source, stdin, label, fname = read_item_folder(folder, SOURCE_FILE[self.language])
            programs.append(
                stdin_program(
                    id=folder.name, benchmark=self.name, language=self.language, source=source,
                    tests=[(stdin, label)],
                    meta={"origin": f"Intelligent-CAT-Lab/CodeMind@39c9471 dataset/CodeNet/{FOLDER[self.language]}/"
                                    f"{folder.name}", "source_file": fname},
                )  # fmt: skip
            )
        return programs


PLT = {"python": ("plt-empirical/Python", ".py"), "java": ("plt-empirical/Java", ".java")}


class CodeNetPLT(Benchmark):
    name = "codenet-plt"
    languages = ("python", "java")

    def __init__(self, data_dir=None, language="python", **options):
        super().__init__(data_dir, language, **options)

    def load(self) -> list[Program]:
        root = mirror_root(self.data_dir, self.name)
        files = ListedFiles(root, "codenet/FILES.sha256")
        self._files = {files.listing: files.listing_sha256}
        base, ext = PLT[self.language]
        ids = sorted(p.stem for p in (files.base / base / "Code").glob(f"*{ext}"))
        programs = []
        for pid in ids:
            source = files.read(f"{base}/Code/{pid}{ext}")
            stdin = files.read(f"{base}/TestCases/{pid}_in.txt")
            label = files.read(f"{base}/TestCases/{pid}_out.txt")
            programs.append(
                stdin_program(
                    id=pid, benchmark=self.name, language=self.language, source=source, tests=[(stdin, label)],
                    meta={"origin": f"PLTranslationEmpirical dataset/codenet/{base.split('/')[1]}/Code/{pid}{ext}"},
                )  # fmt: skip
            )
        return programs

