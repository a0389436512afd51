"""`--model-arg KEY=VALUE` (repeatable): the backend's own options, checked by the backend,
parsed as JSON scalars when they parse, and part of the run's identity."""

from __future__ import annotations

import pytest
from cli_helpers import assert_one_line_error, codemind

from codemind.config import RunConfig, parse_options
from codemind.errors import UserError


def test_model_args_parse_as_json_scalars_else_strings():
    assert parse_options(["n_ctx=4096", "chat=false", "chat_format=chatml", "t=0.5", 'q="4"', "u=null",
                             "l=[1, 2]", "e=a=b", "s="], "--model-arg") == {
        "n_ctx": 4096, "chat": False, "chat_format": "chatml", "t": 0.5, "q": "4", "u": None, "l": "[1, 2]",
        "e": "a=b", "s": ""}
    with pytest.raises(UserError, match="KEY=VALUE"):
        parse_options(["n_ctx"], "--model-arg")
    with pytest.raises(UserError, match="given twice"):
        parse_options(["a=1", "a=2"], "--model-arg")


def test_model_args_are_in_the_run_identity():
    plain = RunConfig(benchmark="cruxeval")
    assert "model_args" not in plain.identity()  # runs from before the field keep their hash
    small = RunConfig(benchmark="cruxeval", model_args={"n_ctx": 2048})
    assert small.hash() != plain.hash() != RunConfig(benchmark="cruxeval", model_args={"n_ctx": 4096}).hash()
    assert small.default_out() != plain.default_out()


def test_model_args_reach_the_backend(tmp_path):
    from codemind.pipeline import make_backend

    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    config = RunConfig(benchmark="cruxeval", model=f"llamacpp:{gguf}", no_cache=True,
                       model_args={"n_ctx": 256, "chat": False, "chat_format": "chatml"})
    b = make_backend(config, 64, [])
    assert (b.n_ctx, b.chat, b.chat_format) == (256, False, "chatml")
    with pytest.raises(UserError, match=r"llamacpp backend: unknown option\(s\) n_ctxx \(known: .*n_ctx"):
        make_backend(config.model_copy(update={"model_args": {"n_ctxx": 1}}), 64, [])
    with pytest.raises(UserError, match="unknown option"):  # even set to null (= unset)
        make_backend(config.model_copy(update={"model_args": {"n_ctxx": None}}), 64, [])


@pytest.mark.parametrize("args,pattern", [
    (["--model-arg", "n_ctxx=5"], "unknown option(s) n_ctxx"),
    (["--model-arg", "n_ctx"], "--model-arg expects KEY=VALUE"),
    (["--model-arg", "n_ctx=1", "--model-arg", "n_ctx=2"], "--model-arg n_ctx is given twice"),
    (["--model-arg", "batch=6"], "batch must be 1 (one request at a time) or a multiple of 4 from 8, not 6"),
])
def test_bad_model_args_are_one_line(args, pattern, tmp_path):
    proc = codemind("run", "--benchmark", "cruxeval", "--limit", "1", "--sandbox", "process",
                    "--model", "llamacpp:gemma3-270m", "--out", tmp_path / "r", *args)
    assert_one_line_error(proc, pattern)


def test_replay_takes_no_model_args(data_dir, tmp_path):
    proc = codemind("run", "--benchmark", "cruxeval", "--limit", "1", "--sandbox", "process", "--out", tmp_path / "r",
                    "--model", f"replay:{data_dir}/cruxeval/evaluation_results/gpt-4o_temp0.2_output.json",
                    "--model-arg", "temperature=0.5")
    assert_one_line_error(proc, "replay backend: unknown option(s) temperature")
