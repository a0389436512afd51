"""Batched decoding on the embedded default model: which kernel computes a decode row in a
batch of n rows, and what batching buys.

    python benchmarks/perf/batched_decode.py [STEPS]      # default 16

One context with a non-unified KV cache (a stream per sequence, as codemind.models.llamacpp_batch
uses), short CRUXEval completion prompts, greedy. Part 1: for batch sizes 1-12, a sequence
decoded at the first, middle and last row of the batch (sequence ids consecutive, the other
rows other sequences) is compared with three references: alone (1 row, "one-row"), in a 4-row
batch ("four-row") and in an 8-row batch ("eight-row"); bit-identical logits name the kernel.
Part 2: decode tokens/s of one-row steps against K-row steps, and whether greedy tokens agree.

Measured 2026-12-03, 2 cores (load ~1), 16 steps:
  rows 1-3 one-row; 4-7: full groups of 4 four-row, the rest one-row; 8, 12: eight-row;
  9-11: full groups eight-row, the 1-3 rows left over another kernel again.
  one-row steps 24.9 tokens/s; K=4 49.5 (1.99x), K=8 63.5 (2.55x), K=12 77.7 (3.13x), K=16
  76.9 (3.09x); logits never bit-identical to one-row steps, greedy tokens 4/4, 7/8, 11/12, 15/16.
  A second run (load ~1.5): the same kernel table; K=4 1.98x, 8 2.06x, 12 2.36x, 16 2.45x.
So the shipped path (llamacpp_batch) pads every step to >= 8 rows, a multiple of 4, which makes
a row's result independent of its batch-mates; it cannot make it equal to one-row steps.
"""
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import llama_cpp
import numpy as np
from llama_cpp import Llama

from codemind.models.llamacpp import quiet_llama_logs, resolve_model_path
from codemind.models.llamacpp_batch import BatchDecoder

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 16
N = 16
quiet_llama_logs(llama_cpp)
llm = Llama(model_path=str(resolve_model_path("")), n_ctx=512, n_threads=2, verbose=False)
# the shipped path's context: a stream per sequence (non-unified KV cache), Llama's defaults
# otherwise (flash attention off); its decode_rows() decodes rows as given, unpadded
engine = BatchDecoder(llama_cpp, llm, N, 1024)
rows = [json.loads(line) for line in open(os.environ["CODEMIND_DATA"] + "/cruxeval/cruxeval.jsonl").read().splitlines()[20:20 + N]]
prompts = [llm.tokenize(f"def test():\n{r['code']}\n# f({r['input']}) returns".encode()) for r in rows]


def logits(i):
    return engine.logits(i).copy()


def run(order: list[int], steps: int) -> tuple[list[list[int]], list[list[np.ndarray]], float]:
    """Prompts `order` (indices) in sequences 0.. (row r = sequence r), each evaluated alone,
    then `steps` greedy steps of all of them in one batch: tokens, logits, decode seconds."""
    llama_cpp.llama_memory_clear(engine.mem, True)
    last = []
    for s, pi in enumerate(order):
        toks = prompts[pi]
        engine.decode_rows([(x, j, s, j == len(toks) - 1) for j, x in enumerate(toks)])
        last.append(logits(len(toks) - 1))
    seqs, lss = [[] for _ in order], [[] for _ in order]
    t0 = time.perf_counter()
    for k in range(steps):
        nxt = [int(np.argmax(lg)) for lg in last]
        for s in range(len(order)):
            seqs[s].append(nxt[s])
            lss[s].append(last[s])
        engine.decode_rows([(nxt[s], len(prompts[pi]) + k, s, True) for s, pi in enumerate(order)])
        last = [logits(r) for r in range(len(order))]
    return seqs, lss, time.perf_counter() - t0


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


refs = {"one-row": run([0], 6)[1][0], "four-row": run([0, 1, 2, 3], 6)[1][0], "eight-row": run(list(range(8)), 6)[1][0]}
kernels = {}
for n in range(1, 13):
    got = []
    for pos in sorted({0, (n - 1) // 2, n - 1}):
        order = list(range(1, n))
        order.insert(pos, 0)
        ls = run(order, 6)[1][pos]
        got.append(f"row {pos}: " + next((name for name, ref in refs.items() if same(ls, ref)), "other"))
    kernels[n] = ", ".join(got)
speed = {}
one_seqs, one_logits, one_t = [], [], 0.0
for i in range(N):
    s, ls, t = run([i], STEPS)
    one_seqs.append(s[0])
    one_logits.append(ls[0])
    one_t += t
for k in (4, 8, 12, 16):
    seqs, lss, t = run(list(range(k)), STEPS)
    speed[k] = {"one_row_tok_s": round(STEPS / (one_t / N), 1), "batched_tok_s": round(k * STEPS / t, 1),
                "speedup": round(k * STEPS / t / (STEPS / (one_t / N)), 2),
                "greedy_tokens_equal": f"{sum(seqs[i] == one_seqs[i] for i in range(k))}/{k}",
                "logits_bit_identical": f"{sum(same(lss[i], one_logits[i]) for i in range(k))}/{k}"}
print(json.dumps({"decode_steps": STEPS, "row_kernel_by_batch_size": kernels, "throughput": speed}, indent=1))
