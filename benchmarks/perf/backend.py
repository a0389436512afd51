"""Throughput of the openai backend vs a bare asyncio loop over the same client.

    python benchmarks/perf/backend.py [--requests 1000] [--concurrency 16] [--rounds 5]
    python benchmarks/perf/backend.py --llamacpp 10 [--alias A]   # embedded model tokens/s instead

Starts a minimal OpenAI-compatible stub (raw asyncio HTTP/1.1, keep-alive, a fixed
chat completion) in a separate process so that the client side is what is measured,
then alternates rounds of (a) AsyncOpenAI + asyncio.Semaphore + gather and (b)
OpenAIBackend.generate (background loop thread, workers, retry wrapper, queue), the
same requests at the same concurrency, and prints requests/s of each (best round) and
the ratio. Target: backend >= 95% of bare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

_BODY = json.dumps(
    {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": "stub",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "[ANSWER]42[/ANSWER]"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }
).encode()
_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(_BODY)).encode()
    + b"\r\n\r\n"
    + _BODY
)


async def _serve_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            writer.write(_RESPONSE)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def _stub_main(sock: socket.socket) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_serve_conn, sock=sock, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_stub() -> tuple[mp.Process, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = sock.getsockname()[1]
    proc = mp.get_context("fork").Process(target=_stub_main, args=(sock,), daemon=True)
    proc.start()
    sock.close()
    return proc, f"http://127.0.0.1:{port}/v1"


async def _bare(base_url: str, n: int, concurrency: int) -> tuple[float, float]:
    from openai import AsyncOpenAI

    start, cpu = time.perf_counter(), time.process_time()
    client = AsyncOpenAI(api_key="sk-bench", base_url=base_url, max_retries=0, timeout=600.0)
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> str:
        async with sem:
            r = await client.chat.completions.create(
                model="stub",
                messages=[{"role": "user", "content": f"prompt {i}"}],
                temperature=0.0,
                top_p=1.0,
                max_tokens=512,
                seed=0,  # what the backend sends: params.seed + sample_index
            )
            return r.choices[0].message.content

    texts = await asyncio.gather(*(one(i) for i in range(n)))
    await client.close()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert len(texts) == n and all(texts)
    return n / elapsed, cpu / n


def bare_rps(base_url: str, n: int, concurrency: int) -> tuple[float, float]:
    """(requests/s, client CPU seconds per request) of the bare loop."""
    return asyncio.run(_bare(base_url, n, concurrency))


def backend_rps(base_url: str, n: int, concurrency: int) -> tuple[float, float]:
    """(requests/s, client CPU seconds per request, all threads) of OpenAIBackend."""
    from codemind.models.openai_api import OpenAIBackend
    from codemind.schema import GenerationParams, GenRequest

    reqs = [GenRequest(item_key=f"i{i}", sample_index=0, prompt=f"prompt {i}") for i in range(n)]
    backend = OpenAIBackend("stub", GenerationParams(), base_url=base_url, max_concurrency=concurrency)
    start, cpu = time.perf_counter(), time.process_time()
    gens = list(backend.generate(reqs))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert len(gens) == n and all(g.error_kind is None for g in gens), gens[0]
    return n / elapsed, cpu / n


def llamacpp_speed(n: int, alias: str = "") -> None:
    """Prompt and generation tokens/s of an embedded model (default: the default alias) on the
    first n CRUXEval output-prediction prompts (cruxeval-direct template, greedy, up to 64
    new tokens, in the alias's own chat or completion mode)."""
    import os

    from codemind.models.llamacpp import DEFAULT_ALIAS, LlamaCppBackend
    from codemind.schema import GenerationParams, GenRequest

    root = Path(__file__).resolve().parents[2]
    template = (root / "codemind/tasks/prompts/ier/cruxeval-direct.txt").read_text()
    data = Path(os.environ.get("CODEMIND_DATA", root.parent / "shared" / "data")) / "cruxeval" / "cruxeval.jsonl"
    rows = [json.loads(line) for line in data.read_text().splitlines()[:n]]
    reqs = [GenRequest(item_key=r["id"], sample_index=0, prompt=template.replace("{code}", r["code"]).replace(
        "{input}", r["input"]), stop=["[/ANSWER]"]) for r in rows]
    alias = alias or DEFAULT_ALIAS
    backend = LlamaCppBackend(alias, GenerationParams(max_tokens=64))
    t0 = time.perf_counter()
    backend.load()
    load_s = time.perf_counter() - t0
    # split prompt vs generation time: time each prompt with max_tokens=1, then in full
    one = LlamaCppBackend(alias, GenerationParams(max_tokens=1))
    one._llm = backend.load()
    t0 = time.perf_counter()
    ptoks = sum(g.prompt_tokens or 0 for g in one.generate(reqs))
    prompt_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    gens = list(backend.generate(reqs))
    total_s = time.perf_counter() - t0
    ctoks = sum(g.completion_tokens or 0 for g in gens)
    gen_s = max(total_s - prompt_s, 1e-9)
    print(f"llamacpp {alias} ({'chat' if backend.chat else 'completion'}), {len(reqs)} cruxeval-direct prompts, n_threads={backend.n_threads}, load {load_s:.2f}s")
    print(f"prompt: {ptoks} tokens in {prompt_s:.2f}s = {ptoks / prompt_s:.1f} tok/s")
    print(f"generation: {ctoks} tokens in ~{gen_s:.2f}s = {ctoks / gen_s:.1f} tok/s")
    print(f"per item: {total_s / len(reqs):.2f}s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llamacpp", type=int, default=0, metavar="N",
                    help="measure the embedded llama.cpp model on N prompts instead")
    ap.add_argument("--alias", default="", help="with --llamacpp: the model alias (default: the default model)")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if args.llamacpp:
        llamacpp_speed(args.llamacpp, args.alias)
        return
    proc, base_url = start_stub()
    try:
        bare_rps(base_url, 200, args.concurrency)  # warm up imports, sockets, stub
        backend_rps(base_url, 200, args.concurrency)
        bare, ours = [], []
        for _ in range(args.rounds):
            bare.append(bare_rps(base_url, args.requests, args.concurrency))
            ours.append(backend_rps(base_url, args.requests, args.concurrency))
    finally:
        proc.terminate()
        proc.join(5)
    b_rps, b_cpu = [r for r, _ in bare], [c for _, c in bare]
    o_rps, o_cpu = [r for r, _ in ours], [c for _, c in ours]
    print(f"requests per round: {args.requests}, concurrency: {args.concurrency}, rounds: {args.rounds}")
    print(f"bare asyncio + AsyncOpenAI : best {max(b_rps):8.1f} req/s  median {statistics.median(b_rps):8.1f}"
          f"  client CPU {1000 * statistics.median(b_cpu):.3f} ms/req")
    print(f"codemind openai backend    : best {max(o_rps):8.1f} req/s  median {statistics.median(o_rps):8.1f}"
          f"  client CPU {1000 * statistics.median(o_cpu):.3f} ms/req")
    print(f"ratio req/s (best / best)      : {max(o_rps) / max(b_rps):.3f}")
    print(f"ratio req/s (median / median)  : {statistics.median(o_rps) / statistics.median(b_rps):.3f}")
    print(f"ratio CPU/req (bare / backend) : {statistics.median(b_cpu) / statistics.median(o_cpu):.3f}"
          "  (load-insensitive: >= 0.95 means the backend costs at most ~5% more CPU per request)")


if __name__ == "__main__":
    main()
