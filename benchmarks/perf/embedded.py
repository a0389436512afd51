"""The embedded model side by side on the same CRUXEval prompts: today's path (every request
from an empty context), the shared prefix state (the llamacpp backend's default), and
llama.cpp's own server with parallel slots driven by the codemind openai backend.

    python benchmarks/perf/embedded.py [--limit 50] [--alias qwen2.5-coder-0.5b] [--slots 4]
                                       [--no-server]

The prompts are built exactly as `codemind run --benchmark cruxeval --limit N` builds them
(default task ier, its default prompt, ground truth executed in the process sandbox through
the execution cache, the same GenerationParams), so the figures are those of `make install`.
Greedy decoding; prints items/s of each path, the ratios to today's path, and how many of the
new path's outputs are identical to today's (target: all, and >= 3x items/s). Paths run one
after another in one process on the same machine, so load from other jobs affects all three;
run it on a quiet machine for absolute figures, the ratios are the point; CPU seconds (this
process's threads, plus the server process's) are the fairer figure on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def cruxeval_requests(limit: int, task_name: str = "ier", model: str = "llamacpp:qwen2.5-coder-0.5b"):
    """(GenRequests, GenerationParams) of the first stage of `codemind run --benchmark cruxeval
    --limit N --task T`, built by the pipeline's own functions (no run directory written)."""
    from codemind.config import RunConfig
    from codemind.groundtruth import execute_ground_truth
    from codemind.pipeline import load_programs
    from codemind.sandbox import open_sandbox
    from codemind.schema import GenRequest
    from codemind.tasks.base import TASKS, StageContext

    config = RunConfig(benchmark="cruxeval", task=task_name, limit=limit, sandbox="process", model=model)
    task = TASKS.get(config.task)()
    programs, _, _ = load_programs(config)
    with open_sandbox("process") as sandbox:
        truths = {(t.program_id, t.input_index): t for t in execute_ground_truth(programs, sandbox)}
    first = programs[0]
    templates = [task.prompt_spec(pid).template_for(first) for pid in task.budget_prompts(first, config.prompt)]
    max_tokens = max((t.max_tokens or 0) for t in templates) or None
    stop = list(templates[0].stop) if len(templates) == 1 else []
    ctx = StageContext(programs=programs, truths=truths, prompt_id=config.prompt, seed=config.seed,
                       samples=lambda: [], execute=lambda ps: {})
    items = next(task.plan(ctx)).items
    reqs = [GenRequest(item_key=i.key, sample_index=0, prompt=i.prompt.text, system=i.prompt.system,
                       stop=i.prompt.stop, benchmark=i.benchmark, program_id=i.program_id,
                       input_index=i.input_index) for i in items]
    return reqs, config.params(max_tokens, stop)


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of this process (all its threads) or of another one."""
    if pid is None:
        import resource

        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


TOKENS: list[tuple[int, int]] = []  # (prompt, completion) tokens of each timed path


def timed(backend, reqs, server_pid: int | None = None) -> tuple[float, float, dict[str, str | None]]:
    """(wall seconds, CPU seconds of this process and the server, outputs)."""
    c0 = cpu_seconds() + (cpu_seconds(server_pid) if server_pid else 0.0)
    t0 = time.perf_counter()
    gens = list(backend.generate(reqs))
    seconds = time.perf_counter() - t0
    out = {g.item_key: (g.text if g.error_kind is None else f"<{g.error_kind}: {g.error}>") for g in gens}
    TOKENS.append((sum(g.prompt_tokens or 0 for g in gens), sum(g.completion_tokens or 0 for g in gens)))
    return seconds, cpu_seconds() + (cpu_seconds(server_pid) if server_pid else 0.0) - c0, out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_path(path: Path, alias: str, reqs, params, slots: int, n_ctx: int) -> tuple[float, dict] | str:
    """llama-cpp-python's server (`python -m llama_cpp.server`, the [server] extra), asked by
    the codemind openai backend with `slots` requests in flight. It has no parallel slots:
    one Llama behind a lock (llama_cpp/server/app.py, llama_outer_lock), so concurrency only
    overlaps HTTP; it keeps the KV cache of the previous request and reuses its longest
    common prefix (outputs then depend on request order). The C++ llama-server, which has
    --parallel slots, is not part of the pip package. Returns (seconds, outputs) or why it
    could not run."""
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError as e:
        return f"llama_cpp.server not importable ({e}); pip install 'llama-cpp-python[server]'"
    from codemind.models.openai_api import OpenAIBackend

    port = free_port()
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", alias,
           "--n_ctx", str(n_ctx), "--n_threads", str(os.cpu_count() or 1), "--port", str(port),
           "--host", "127.0.0.1", "--verbose", "False"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            if proc.poll() is not None:
                return f"server exited: {proc.stderr.read().decode()[-300:]}"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            return "server did not start in 180 s"
        os.environ.setdefault("OPENAI_API_KEY", "local")
        backend = OpenAIBackend(alias, params, base_url=f"http://127.0.0.1:{port}/v1", max_concurrency=slots)
        for _ in backend.generate([reqs[0]]):
            pass
        try:
            return timed(backend, reqs, proc.pid)
        finally:
            backend.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=50)
    ap.add_argument("--alias", default="qwen2.5-coder-0.5b")
    ap.add_argument("--slots", type=int, default=4, help="client concurrency against the server")
    ap.add_argument("--no-server", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from codemind.models.llamacpp import LlamaCppBackend

    reqs, params = cruxeval_requests(args.limit, model=f"llamacpp:{args.alias}")
    params = params.model_copy(update={"temperature": 0.0})
    rows: dict[str, dict] = {}
    outputs: dict[str, dict] = {}
    paths = (("today", {"prefix_cache": False, "batch": 1}), ("prefix_state", {"batch": 1}), ("batched", {}))
    for name, opts in paths:
        backend = LlamaCppBackend(args.alias, params, **opts)
        backend.load()
        for _ in backend.generate(reqs[:1]):  # warm-up (page the weights in), not timed
            pass
        seconds, cpu, outputs[name] = timed(backend, reqs)
        rows[name] = {"seconds": round(seconds, 1), "items_per_s": round(len(reqs) / seconds, 3),
                      "prompt_tokens": TOKENS[-1][0], "completion_tokens": TOKENS[-1][1],
                      "cpu_s": round(cpu, 1), "items_per_cpu_s": round(len(reqs) / cpu, 4)}
        backend.close()
    if args.no_server:
        rows["llama_cpp_server"] = {"skipped": "--no-server"}
    else:
        got = server_path(LlamaCppBackend(args.alias, params).path, args.alias, reqs, params, args.slots, 4096)
        if isinstance(got, str):
            rows["llama_cpp_server"] = {"skipped": got}
        else:
            seconds, cpu, outputs["llama_cpp_server"] = got
            rows["llama_cpp_server"] = {"seconds": round(seconds, 1), "items_per_s": round(len(reqs) / seconds, 3),
                      "prompt_tokens": TOKENS[-1][0], "completion_tokens": TOKENS[-1][1],
                                        "cpu_s": round(cpu, 1), "items_per_cpu_s": round(len(reqs) / cpu, 4),
                                        "slots": args.slots}
    base, base_cpu = rows["today"]["items_per_s"], rows["today"]["items_per_cpu_s"]
    for name, row in rows.items():
        if "items_per_s" in row:
            row["ratio_to_today"] = round(row["items_per_s"] / base, 2)
            row["cpu_ratio_to_today"] = round(row["items_per_cpu_s"] / base_cpu, 2)
        if name != "today" and name in outputs:
            same = sum(outputs[name][k] == outputs["today"][k] for k in outputs["today"])
            row["identical_to_today"] = f"{same}/{len(reqs)}"
    diffs = {name: [k for k in outputs["today"] if outputs[name][k] != outputs["today"][k]]
             for name, _ in paths[1:]}
    explained = explain(args.alias, params, [r for r in reqs if r.item_key in diffs["batched"]])
    print(json.dumps({"items": len(reqs), "alias": args.alias, "cpus": os.cpu_count(),
                      "load_avg": round(os.getloadavg()[0], 2), "paths": rows, "target_ratio": 3.0,
                      "differ_from_today": diffs, "batched_differences": explained}, indent=1))


def explain(alias: str, params, reqs) -> list[dict]:
    """Why a batched output differs from today's: both decodings of the request replayed
    token by token (one-row steps in a one-sequence context, as today's path; eight-row steps
    in a BatchDecoder, as the batched path), up to the first token where they part. Reports
    that step, both tokens, each path's margin between them (its pick's logit minus the
    other's) and the largest logit difference between the paths one step before."""
    import llama_cpp
    import numpy as np

    from codemind.models.llamacpp import LlamaCppBackend, max_new_tokens
    from codemind.models.llamacpp_batch import BatchDecoder

    backend = LlamaCppBackend(alias, params, batch=1)
    llm = backend.load()  # its eval() is today's path: n_batch pieces, the last row's logits

    def last_logits():
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),)).copy()

    out = []
    for req in reqs:
        prompt = backend._tokens(llm, req)
        cap = max_new_tokens(params.max_tokens, len(prompt), llm.n_ctx())
        llm.reset()
        llm.eval(prompt)
        today = last_logits()
        engine = BatchDecoder(llama_cpp, llm, 8, -(-(len(prompt) + cap + 8) // 256) * 256)
        first = engine.start(0, prompt, 0)
        batched = engine.logits((len(prompt) - 1) % engine.n_batch).copy()
        row = {"item": req.item_key, "parted_at_token": None}
        previous_diff = 0.0
        for k in range(cap):
            a, b = int(today.argmax()), int(batched.argmax())
            assert k or a == first
            if a != b:
                row.update(parted_at_token=k, today=llm.detokenize([a]).decode(errors="replace"),
                           batched=llm.detokenize([b]).decode(errors="replace"),
                           today_margin=round(float(today[a] - today[b]), 4),
                           batched_margin=round(float(batched[b] - batched[a]), 4),
                           max_logit_diff_step_before=round(previous_diff, 4))
                break
            previous_diff = float(np.abs(today - batched).max())
            llm.eval([a])
            today = last_logits()
            engine.step({0: (a, len(prompt) + k)})
            batched = engine.logits(0).copy()
        engine.close()
        out.append(row)
    backend.close()
    return out


if __name__ == "__main__":
    main()
