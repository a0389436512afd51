"""Batched decoding (llama.cpp's batch API, one sequence id per request, one context) against
one sequence at a time, on the embedded default model: decode tokens/s and whether the greedy
tokens and logits are the same.

    python benchmarks/perf/batched_decode.py K STEPS     # e.g. 8 16

K CRUXEval programs as short completion prompts, each prompt evaluated on its own; then STEPS
greedy decode steps, either one sequence at a time (today's path: one-row batches) or all K
in one K-row batch per step. Measured 2026-12-03 on 2 cores at load ~8: K=4: 1.38x, logits
bit-identical 0/4, greedy 4/4; K=8: 1.82x, logits 0/8, greedy 7/8 (max logit diff 22.7
after the sequences diverged). A k-row batch rounds differently from one-row steps, so batched
outputs depend on which requests share a batch: not shipped (docs/architecture.md).
"""
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np
import llama_cpp
from llama_cpp import Llama
from codemind.models.llamacpp import resolve_model_path, quiet_llama_logs
quiet_llama_logs(llama_cpp)
llm = Llama(model_path=str(resolve_model_path("")), n_ctx=512, n_threads=2, verbose=False)
model = llm._model.model
K, STEPS = int(sys.argv[1]), int(sys.argv[2])
p = llama_cpp.llama_context_default_params()
p.n_ctx, p.n_batch, p.n_ubatch, p.n_seq_max = 4096, 512, 512, K
p.n_threads = p.n_threads_batch = 2
ctx = llama_cpp.llama_init_from_model(model, p)
mem = llama_cpp.llama_get_memory(ctx)
nv = llm.n_vocab()
rows = [json.loads(l) for l in open(os.environ["CODEMIND_DATA"] + "/cruxeval/cruxeval.jsonl").read().splitlines()[:K]]
prompts = [llm.tokenize(f"def test():\n{r['code']}\n# f({r['input']}) returns".encode()) for r in rows]
batch = llama_cpp.llama_batch_init(512, 0, K)

def decode(entries):  # [(token, pos, seq, want_logits)]
    batch.n_tokens = len(entries)
    for i, (t, pos, s, lg) in enumerate(entries):
        batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = t, pos, 1, lg
        batch.seq_id[i][0] = s
    assert llama_cpp.llama_decode(ctx, batch) == 0

def logits(i):
    return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, i), shape=(nv,)).copy()

def one_at_a_time():
    out, t = [], 0.0
    for toks in prompts:
        llama_cpp.llama_memory_clear(mem, True)
        decode([(x, j, 0, j == len(toks) - 1) for j, x in enumerate(toks)])
        seq, ls = [], []
        l = logits(len(toks) - 1)
        t0 = time.perf_counter()
        for k in range(STEPS):
            nxt = int(np.argmax(l)); seq.append(nxt); ls.append(l)
            decode([(nxt, len(toks) + k, 0, True)]); l = logits(0)
        t += time.perf_counter() - t0
        out.append((seq, ls))
    return out, t

def batched():
    llama_cpp.llama_memory_clear(mem, True)
    last = []
    for s, toks in enumerate(prompts):
        decode([(x, j, s, j == len(toks) - 1) for j, x in enumerate(toks)])
        last.append(logits(len(toks) - 1))
    seqs, lss = [[] for _ in prompts], [[] for _ in prompts]
    t0 = time.perf_counter()
    for k in range(STEPS):
        nxt = [int(np.argmax(l)) for l in last]
        for s in range(K):
            seqs[s].append(nxt[s]); lss[s].append(last[s])
        decode([(nxt[s], len(prompts[s]) + k, s, True) for s in range(K)])
        last = [logits(s) for s in range(K)]
    return list(zip(seqs, lss)), time.perf_counter() - t0

a, ta = one_at_a_time()
b, tb = batched()
same_tokens = sum(x[0] == y[0] for x, y in zip(a, b))
same_logits = sum(all(np.array_equal(p, q) for p, q in zip(x[1], y[1])) for x, y in zip(a, b))
maxdiff = max(float(np.abs(p - q).max()) for x, y in zip(a, b) for p, q in zip(x[1], y[1]))
print(json.dumps({"sequences": K, "decode_steps": STEPS, "one_at_a_time_tok_s": round(K * STEPS / ta, 1),
                  "batched_tok_s": round(K * STEPS / tb, 1), "speedup": round(ta / tb, 2),
                  "greedy_tokens_identical": f"{same_tokens}/{K}", "logits_bit_identical": f"{same_logits}/{K}",
                  "max_logit_diff": round(maxdiff, 4)}))
