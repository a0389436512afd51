"""`--benchmark file:PATH`: a researcher's own programs, one JSON object a line.

- Loading: each kind of line (Python/Java, function/stdin) becomes a Program in the shape of
  the built-in benchmarks (Java functions as HumanEval-X: a generated Main prints the call).
- End to end, in the Docker sandbox against a scripted OpenAI-compatible server on 127.0.0.1
  (tests/servers/task_server.py: it answers output questions with the file's labels, synthesis
  with the file's source, input prediction with the first call): every task the fields allow,
  ground truth executed (a wrong label is label_mismatch in `data verify` and the questions
  and verdicts use the executed value).
- A malformed file is one line on stderr naming the line and field, exit code 2, nothing run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, codemind
from docker_helpers import need_docker
from servers.task_server import TaskScript, TaskServer

from codemind.benchmarks.base import BENCHMARKS
from codemind.config import RunConfig
from codemind.errors import UserError
from codemind.registry import UnknownName

ADD = {
    "id": "add", "language": "python", "kind": "function",
    "source": "def add(a, b):\n    return a + b\n", "entry_point": "add",
    "inputs": [{"call": "add(1, 2)", "label": "3"}, {"call": "add('a', 'b')", "label": "'ab'"},
               {"call": "add(2, 2)", "label": "5"}],  # the last label is wrong: execution gives 4
    "spec": "def add(a, b):\n    \"\"\"Return a plus b.\"\"\"\n",
    "tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"],
}  # fmt: skip
ECHO = {"id": "double", "language": "python", "kind": "stdin", "source": "n = int(input())\nprint(n * 2)\n",
        "inputs": [{"stdin": "21\n", "label": "42"}]}
SHOUT = {"id": "shout", "language": "python", "kind": "stdin", "source": "print(input().upper())\n",
         "inputs": [{"stdin": "hi\n", "label": "hi"}]}  # wrong: it prints HI
CALC = {
    "id": "Calc", "language": "java", "kind": "function",
    "source": "public class Calc {\n    public int add(int a, int b) {\n        return a + b;\n    }\n}\n",
    "entry_point": "add",
    "inputs": [{"call": "add(1, add(2, 3))", "label": "6"}, {"call": "add(2, 2)", "label": "5"}],  # 5: wrong
}  # fmt: skip
TWICE = {
    "id": "Twice", "language": "java", "kind": "function",
    "source": "class Twice {\n    static int[] twice(int[] xs) {\n        int[] out = new int[xs.length];\n"
              "        for (int i = 0; i < xs.length; i++) out[i] = 2 * xs[i];\n        return out;\n    }\n}\n",
    "entry_point": "twice", "inputs": [{"call": "twice(new int[]{1, 2})", "label": "[2, 4]"}],
}  # fmt: skip
PLUS_ONE = {
    "id": "PlusOne", "language": "java", "kind": "stdin",
    "source": "import java.util.Scanner;\n\npublic class Main {\n    public static void main(String[] args) {\n"
              "        System.out.println(new Scanner(System.in).nextInt() + 1);\n    }\n}\n",
    "inputs": [{"stdin": "41\n", "label": "42"}, {"stdin": "1\n", "label": "3"}],  # 3: wrong
}  # fmt: skip
PYTHON, JAVA = [ADD, ECHO, SHOUT], [CALC, TWICE, PLUS_ONE]
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "programs.jsonl"


def write(path: Path, lines: list) -> Path:
    path.write_text("".join((json.dumps(x) if not isinstance(x, str) else x) + "\n" for x in lines))
    return path


def load(path: Path, language: str = "python", inputs: str = "all"):
    return BENCHMARKS.get(f"file:{path}")(language=language, inputs=inputs).load()


# ---------------------------------------------------------------- loading


def test_the_registry_resolves_file_prefix_and_lists_it():
    assert "file:PATH" not in BENCHMARKS.names()  # plain names only: callers read their class attributes
    assert "file:PATH" in BENCHMARKS.patterns()
    with pytest.raises(UnknownName, match=r"known: .*humaneval.*file:PATH"):
        BENCHMARKS.get("nope")
    with pytest.raises(UnknownName):
        BENCHMARKS.get("nope:x")


def test_python_programs_have_the_shapes_of_the_built_in_benchmarks(tmp_path):
    path = write(tmp_path / "p.jsonl", [ADD, ECHO, CALC])
    add, echo = load(path)  # the Java line is checked, then left out: --language python
    assert (add.kind, add.entry_point, add.benchmark) == ("function", "add", f"file:{path}")
    assert [(i.index, i.call, i.label) for i in add.inputs] == [(0, "add(1, 2)", "3"), (1, "add('a', 'b')", "'ab'"),
                                                                (2, "add(2, 2)", "5")]
    assert add.meta["spec"] == ADD["spec"]
    assert add.meta["tests"] == "assert add(1, 2) == 3\nassert add(-1, 1) == 0\n"  # appended to a candidate
    assert add.meta["origin"] == f"{path} line 1"
    assert (echo.kind, echo.entry_point, echo.inputs[0].stdin, echo.inputs[0].label) == ("stdin", None, "21\n", "42")
    (first,) = load(path, inputs="first")[0].inputs  # --inputs first: each program's first input
    assert first.call == "add(1, 2)"


def test_java_function_programs_get_a_main_that_prints_each_call(tmp_path):
    path = write(tmp_path / "p.jsonl", [CALC, TWICE, PLUS_ONE, ECHO])
    calc, twice, plus = load(path, language="java")
    assert calc.kind == twice.kind == plus.kind == "stdin" and calc.entry_point is None
    # instance method: called on `Solution s = new Solution()` as HumanEval-X; nested calls qualified too
    assert calc.source.startswith(CALC["source"])
    assert "class Main {" in calc.source and "public class Main" not in calc.source  # Calc is the public class
    assert "Calc s = new Calc();" in calc.source
    assert "case 0: System.out.println(s.add(1, s.add(2, 3))); break;" in calc.source
    assert [(i.stdin, i.label) for i in calc.inputs] == [("0\n", "6"), ("1\n", "5")]
    # static method returning an array: Class.method, printed with Arrays.toString
    assert "public class Main {" in twice.source
    assert "System.out.println(java.util.Arrays.toString(Twice.twice(new int[]{1, 2})));" in twice.source
    assert [(i.stdin, i.label) for i in twice.inputs] == [("", "[2, 4]")]
    assert twice.meta["file_kind"] == "function" and twice.meta["calls"] == ["twice(new int[]{1, 2})"]
    assert plus.source == PLUS_ONE["source"] and [i.stdin for i in plus.inputs] == ["41\n", "1\n"]
    (one,) = load(path, language="java", inputs="first")[0].inputs
    assert one.stdin == "" and "switch" not in load(path, language="java", inputs="first")[0].source


def test_run_directory_and_hash_follow_the_file(tmp_path):
    path = write(tmp_path / "progs.v2.jsonl", [ADD])
    config = RunConfig(benchmark=f"file:{path}", model="openai:m")
    a = config.model_copy(update={"benchmark_sha256": "a" * 64})
    b = config.model_copy(update={"benchmark_sha256": "b" * 64})
    assert a.hash() != b.hash() != config.hash()
    assert a.default_out().parent == Path("results") and a.default_out().name.startswith("file-progs.v2-python-ier-")
    # built-in benchmarks keep their hash: the field is not in their dump
    assert "benchmark_sha256" not in RunConfig(benchmark="cruxeval").identity()


# ---------------------------------------------------------------- malformed files: one line, exit 2


def _good(**change) -> dict:
    return {**ECHO, "id": change.pop("id", "x"), **change}


MALFORMED = {
    "bad kind": ([ECHO, ADD, _good(kind="func")], "line 3: field 'kind': must be 'function' or 'stdin'"),
    "bad language": ([_good(language="rust")], "line 1: field 'language': must be 'python' or 'java'"),
    "no entry point": ([{k: v for k, v in ADD.items() if k != "entry_point"}], "line 1: field 'entry_point': missing"),
    "call on stdin program": ([_good(inputs=[{"call": "f(1)"}])], "line 1: field 'inputs[0].call': a stdin program"),
    "stdin on function": ([{**ADD, "inputs": [{"stdin": "1"}]}], "line 1: field 'inputs[0].stdin': a function program"),
    "duplicate id": ([ECHO, ADD, ECHO], "line 3: field 'id': 'double' is already the id of line 1"),
    "invalid json": ([ECHO, '{"id": "y",, }'], "line 2: invalid JSON"),
    "not an object": (["[1, 2]"], "line 1: expected a JSON object"),
    "empty file": ([], "no programs (the file is empty"),
    "unknown field": ([_good(entrypoint="f")], "line 1: field 'entrypoint': unknown field"),
    "label not a string": ([_good(inputs=[{"stdin": "1", "label": 2}])], "field 'inputs[0].label': must be a string"),
    "missing source": ([{k: v for k, v in ECHO.items() if k != "source"}], "field 'source': missing"),
    "no inputs": ([_good(inputs=[])], "field 'inputs': must have at least one entry"),
    "tests not code": ([{**ADD, "tests": ["assert add(1 =="]}], "field 'tests': not valid Python"),
    "entry point not defined": ([{**ADD, "entry_point": "plus"}], "field 'entry_point': 'plus' is not defined"),
    "java void method": ([{**CALC, "source": "class C { void add(int a, int b) {} }"}], "returns void"),
    "java own main": ([{**CALC, "source": PLUS_ONE["source"]}], "field 'source': a Java function program must not"),
    "language not in file": ([CALC], "has no python programs (1 java; pass --language java)"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_file_is_one_line_and_exit_2(tmp_path, case):
    lines, message = MALFORMED[case]
    write(tmp_path / "progs.jsonl", lines)
    out = tmp_path / "run"
    proc = codemind("run", "--benchmark", "file:progs.jsonl", "--model", "openai:none", "--base-url",
                    "http://127.0.0.1:9/v1", "--sandbox", "process", "--out", out, cwd=tmp_path,
                    env={"OPENAI_API_KEY": "x"})
    assert_one_line_error(proc, f"progs.jsonl {message}" if message.startswith("line") else message)
    assert not out.exists()


@pytest.mark.parametrize("case,content,message", [
    ("missing file", None, "missing.jsonl: no such file"),
    ("not UTF-8", b'{"id": "a"}\n{"id": "\xff"}\n', "progs.jsonl line 2: not UTF-8 (byte 0xff at column 9)"),
    ("no path", None, "file:PATH needs the path"),
])  # fmt: skip
def test_unreadable_files_are_one_line_and_exit_2(tmp_path, case, content, message):
    name = "progs.jsonl" if content is not None else ("missing.jsonl" if case == "missing file" else "")
    if content is not None:
        (tmp_path / name).write_bytes(content)
    for args in (["run", "--benchmark", f"file:{name}", "--sandbox", "process"],
                 ["data", "verify", f"file:{name}", "--sandbox", "process"]):
        assert_one_line_error(codemind(*args, cwd=tmp_path), message)


@pytest.mark.docker
def test_the_same_out_with_an_edited_file_is_refused(tmp_path):
    """The file's sha256 is part of the configuration: an edited file never resumes an old run."""
    need_docker()
    path = write(tmp_path / "progs.jsonl", [ECHO])
    out = tmp_path / "run"
    args = ("run", "--benchmark", "file:progs.jsonl", "--model", "openai:scripted", "--out", out, "--json")
    with TaskServer(TaskScript().add(load(path))) as url:
        assert codemind(*args, "--base-url", url, cwd=tmp_path, env={"OPENAI_API_KEY": "x"}).returncode == 0
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["config"]["benchmark_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert manifest["data"] == {"progs.jsonl": manifest["config"]["benchmark_sha256"]}
        write(path, [{**ECHO, "inputs": [{"stdin": "5\n", "label": "10"}]}])
        proc = codemind(*args, "--base-url", url, cwd=tmp_path, env={"OPENAI_API_KEY": "x"})
    assert_one_line_error(proc, "differs in: benchmark_sha256")


# ---------------------------------------------------------------- end to end, Docker sandbox


class RecordingScript(TaskScript):
    """The task server's answers, with every prompt kept."""

    def __init__(self, programs):
        super().__init__()
        self.add(programs)
        self.prompts: list[str] = []

    def answer(self, prompt: str) -> str:
        with self.lock:
            self.prompts.append(prompt)
        return super().answer(prompt)


def _run(tmp_path: Path, path: Path, language: str, task: str) -> tuple[dict, dict, RecordingScript]:
    script = RecordingScript(load(path, language=language))
    out = tmp_path / f"run-{language}-{task}"
    with TaskServer(script) as url:
        proc = codemind("run", "--benchmark", f"file:{path.name}", "--language", language, "--task", task,
                        "--inputs", "all", "--model", f"openai:scripted-{task}", "--base-url", url, "--out", out,
                        "--json", cwd=path.parent, env={"OPENAI_API_KEY": "x"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not script.unknown, script.unknown[:1]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sandbox"]["kind"] == "docker"
    samples = {s["item_key"]: s for s in map(json.loads, (out / "samples.jsonl").read_text().splitlines())}
    return manifest, samples, script


def _outcomes(samples: dict) -> dict:
    """item key without the benchmark -> (outcome, expected, ground truth status)."""
    return {key.removeprefix("file:progs.jsonl/"): (s["outcome"], s["expected"], s["ground_truth"])
            for key, s in samples.items()}


@pytest.fixture(scope="module")
def docker_ready():
    need_docker()


@pytest.mark.docker
def test_python_every_task_end_to_end(tmp_path, docker_ready):
    path = write(tmp_path / "progs.jsonl", PYTHON + JAVA)
    manifest, samples, _ = _run(tmp_path, path, "python", "ier")
    assert _outcomes(samples) == {
        "add#0/ier": ("correct", "3", "ok"),
        "add#1/ier": ("correct", "'ab'", "ok"),
        "add#2/ier": ("wrong_value", "4", "label_mismatch"),  # the model said the file's 5; execution gives 4
        "double#0/ier": ("correct", "42\n", "ok"),
        "shout#0/ier": ("wrong_value", "HI\n", "label_mismatch"),
    }
    assert manifest["ground_truth"] == {"ok": 3, "label_mismatch": 2}
    assert manifest["config"]["benchmark"] == "file:progs.jsonl"

    # input prediction (Python functions only): the question shows the executed output, not the label
    manifest, samples, script = _run(tmp_path, path, "python", "input")
    assert _outcomes(samples)["add#0/input"] == ("correct", "3", "ok")
    assert set(_outcomes(samples)) == {"add#0/input", "add#1/input", "add#2/input"}
    assert any("assert add(??) == 4" in p for p in script.prompts)
    assert not any("assert add(??) == 5" in p for p in script.prompts)
    assert manifest["usable_programs"]["input"]["unusable_programs"] == {
        "double": "not a function program: stdin programs have no return value to find an input for",
        "shout": "not a function program: stdin programs have no return value to find an input for",
    }

    # DER: the model writes add from the spec (the server returns the file's source), then predicts
    manifest, samples, _ = _run(tmp_path, path, "python", "der")
    assert {k: v[0] for k, v in _outcomes(samples).items()} == {
        "add#0/der:synthesis": "correct", "add@0#0/der:prediction": "correct",
        "add#0/der:reference": "correct", "add#1/der:reference": "correct", "add#2/der:reference": "wrong_value",
    }  # fmt: skip
    assert manifest["test_checks"]["as_checks"] == 1 and manifest["test_checks"]["checks"] == 2

    # SR: with, without and with a misleading test, judged by the file's tests
    manifest, samples, script = _run(tmp_path, path, "python", "sr")
    assert {k: v[0] for k, v in _outcomes(samples).items()} == {
        "add#0/sr:with_test": "correct", "add#0/sr:no_test": "correct", "add#0/sr:misleading_test": "correct"}
    assert any("assert add(1, 2) == 3" in p and "Return a plus b." in p for p in script.prompts)
    assert manifest["sr_mutations"]["mutated"] == 1


@pytest.mark.docker
def test_java_function_and_stdin_programs_end_to_end(tmp_path, docker_ready):
    path = write(tmp_path / "progs.jsonl", PYTHON + JAVA)
    _, samples, script = _run(tmp_path, path, "java", "ier")
    assert _outcomes(samples) == {
        "Calc#0/ier": ("correct", "6\n", "ok"),
        "Calc#1/ier": ("wrong_value", "4\n", "label_mismatch"),
        "Twice#0/ier": ("correct", "[2, 4]\n", "ok"),
        "PlusOne#0/ier": ("correct", "42\n", "ok"),
        "PlusOne#1/ier": ("wrong_value", "2\n", "label_mismatch"),
    }
    assert any("System.out.println(s.add(1, s.add(2, 3)))" in p for p in script.prompts)
    # the tasks that need a Python function say so, before anything runs
    proc = codemind("run", "--benchmark", "file:progs.jsonl", "--language", "java", "--task", "sr", "--model",
                    "openai:none", "--base-url", "http://127.0.0.1:9/v1", cwd=tmp_path, env={"OPENAI_API_KEY": "x"})
    assert_one_line_error(proc, "task sr cannot use any of the 3 programs of file:progs.jsonl (java)")


@pytest.mark.docker
@pytest.mark.parametrize("language,mismatches", [
    ("python", {"add#2": "dataset states 5, execution gives 4", "shout#0": "dataset states hi, execution gives HI"}),
    ("java", {"Calc#1": "dataset states 5, execution gives 4", "PlusOne#1": "dataset states 3, execution gives 2"}),
])  # fmt: skip
def test_data_verify_reports_wrong_labels(tmp_path, docker_ready, language, mismatches):
    path = write(tmp_path / "progs.jsonl", PYTHON + JAVA)
    proc = codemind("data", "verify", "file:progs.jsonl", "--language", language, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (result["programs"], result["items"], result["ok"], result["label_mismatch"]) == (3, 5, 3, 2)
    assert {m["id"]: m["reason"] for m in result["mismatches"]} == mismatches
    assert result["sandbox"] == "docker"
    assert result["data"] == {"progs.jsonl": hashlib.sha256(path.read_bytes()).hexdigest()}


@pytest.mark.docker
@pytest.mark.parametrize("language", ["python", "java"])
def test_the_example_file_runs_clean(docker_ready, language):
    """examples/programs.jsonl (README) loads and every label in it is what the programs do."""
    proc = codemind("data", "verify", f"file:{EXAMPLE}", "--language", language, "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["items"] == result["ok"] == 3, result


def test_the_example_file_loads():
    py, java = load(EXAMPLE), load(EXAMPLE, language="java")
    assert [p.kind for p in py] == ["function", "stdin"] and [p.kind for p in java] == ["stdin", "stdin"]
    assert py[0].meta["spec"] and py[0].meta["tests"] and py[0].meta["file_meta"] == {"author": "example"}
    with pytest.raises(UserError, match="no such file"):
        load(EXAMPLE.with_name("none.jsonl"))
