"""Greedy decoding of many llama.cpp sequences at once, each a pure function of its prompt.

llama.cpp's CPU kernels compute every token row of a batch on its own, but which kernel
computes a row depends on the batch (measured on the 0.5B coder model, Q4_K_M, AVX2): batches
of 1-3 rows take the one-row kernel; 4-7 rows a four-row one; in batches of 8 or more rows
every row of a full group of 4 takes an eight-row one, and the 1-3 rows left over yet another.
The three round differently (logits differ by up to ~0.3), and the eight-row kernel computes a
row the same whatever the other rows hold and however many there are (8, 12, 16, ...). So a
decode step here always has at least 8 rows, a multiple of 4: the live sequences' next tokens,
padded with throwaway rows in free slots. A sequence's tokens then never depend on which
sequences shared its steps, how many there were, or when it started, and 16 rows a step decode
2.5-3.1x the tokens per second of one-row steps on 2 cores (benchmarks/perf/batched_decode.py).
They differ from one-row decoding (`batch=1`) where the two roundings flip a near tie, which is
why the mode is part of the backend's identity.

Each sequence has its own KV stream (llama.cpp's non-unified cache): in one shared stream a
sequence's cells would sit at offsets that depend on its neighbours, and the attention sums
would round differently. A prompt is evaluated alone in its stream, from a copy of its group's
shared prefix stream, with batches cut where a whole-prompt evaluation cuts them (as
llamacpp.PrefixLlama does), so its rows and its first token are those of the plain path.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

ROWS_MIN = 8  # the smallest batch whose full row groups all take the eight-row kernel
ROWS_GROUP = 4  # rows per group; a batch of a multiple of it has no left-over rows


def step_rows(live: int) -> int:
    """Rows of a decode step with `live` sequences: >= ROWS_MIN, a multiple of ROWS_GROUP."""
    return max(ROWS_MIN, -(-live // ROWS_GROUP) * ROWS_GROUP)


class BatchDecoder:
    """A second context on a loaded llama_cpp.Llama's model: `slots` sequence streams plus one
    for the shared prefix, each of `n_ctx_seq` cells; the Llama's batch size and threads."""

    def __init__(self, llama_cpp: Any, llm: Any, slots: int, n_ctx_seq: int):
        if slots < ROWS_MIN or slots % ROWS_GROUP:
            raise ValueError(f"slots must be a multiple of {ROWS_GROUP}, at least {ROWS_MIN}")
        import numpy  # llama-cpp-python's own dependency

        self.np = numpy
        self.lib = llama_cpp
        self.slots = slots
        self.prefix_seq = slots
        params = type(llm.context_params).from_buffer_copy(llm.context_params)
        params.n_seq_max = slots + 1
        params.n_ctx = n_ctx_seq * (slots + 1)
        params.kv_unified = False
        self.n_batch = int(params.n_batch)
        self.n_ctx_seq = n_ctx_seq
        self.vocab = llm._model.vocab
        self.n_vocab = llm.n_vocab()
        self.ctx = llama_cpp.llama_init_from_model(llm._model.model, params)
        if not self.ctx:
            raise RuntimeError(f"llama.cpp could not create a context of {slots + 1} x {n_ctx_seq} cells")
        self.mem = llama_cpp.llama_get_memory(self.ctx)
        self.batch = llama_cpp.llama_batch_init(max(self.n_batch, slots), 0, 1)
        self.prefix: tuple[int, ...] = ()

    def close(self) -> None:
        if self.ctx:
            self.lib.llama_batch_free(self.batch)
            self.lib.llama_free(self.ctx)
            self.ctx = None

    def is_eog(self, token: int) -> bool:
        return bool(self.lib.llama_vocab_is_eog(self.vocab, token))

    def decode_rows(self, rows: list[tuple[int, int, int, bool]]) -> None:
        """One llama_decode of rows (token, position, sequence, wants logits), as given: no
        padding (benchmarks/perf/batched_decode.py measures the kernels with it)."""
        b = self.batch
        b.n_tokens = len(rows)
        for i, (token, pos, seq, logits) in enumerate(rows):
            b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, pos, 1, logits
            b.seq_id[i][0] = seq
        rc = self.lib.llama_decode(self.ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")

    def logits(self, row: int):
        """The logits of a row of the last decode (a view: the next decode overwrites it)."""
        ptr = self.lib.llama_get_logits_ith(self.ctx, row)
        return self.np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    def _argmax(self, row: int) -> int:
        """The greedy token of an output row: the first highest logit, as llama.cpp's greedy
        sampler picks it."""
        return int(self.logits(row).argmax())

    def _eval(self, seq: int, tokens: list[int], start: int) -> int:
        """Evaluate tokens at positions start.. of a stream, batches ending where a
        whole-prompt evaluation's do (multiples of n_batch) and asking logits of each batch's
        last row, as Llama.eval does; the greedy token after the last one."""
        i = 0
        while i < len(tokens):
            room = self.n_batch - (start + i) % self.n_batch
            chunk = tokens[i:i + room]
            self.decode_rows([(t, start + i + j, seq, j == len(chunk) - 1) for j, t in enumerate(chunk)])
            i += len(chunk)
        return self._argmax(len(chunk) - 1)

    def set_prefix(self, tokens: list[int]) -> None:
        """Evaluate a group's shared prefix, alone, into the prefix stream."""
        self.lib.llama_memory_seq_rm(self.mem, self.prefix_seq, -1, -1)
        self.prefix = ()
        if tokens:
            self._eval(self.prefix_seq, tokens, 0)
            self.prefix = tuple(tokens)

    def start(self, slot: int, prompt: list[int], p: int) -> int:
        """Evaluate a prompt in an empty slot, from the prefix stream when p > 0 (its first p
        tokens must be the prefix); the first generated token."""
        self.lib.llama_memory_seq_rm(self.mem, slot, -1, -1)
        if p:
            assert tuple(prompt[:p]) == self.prefix, "the prompt does not start with the prefix state"
            self.lib.llama_memory_seq_cp(self.mem, self.prefix_seq, slot, -1, -1)  # the whole stream
        return self._eval(slot, prompt[p:], p)

    def step(self, live: dict[int, tuple[int, int]]) -> dict[int, int]:
        """One decode step: slot -> (last token, its position) in, slot -> next token out.

        The rows are slots 0..R-1 in order, R = step_rows(highest live slot + 1), free slots
        padded with a throwaway token: llama.cpp splits a batch of a non-unified cache into
        sub-batches wherever the sequence ids of consecutive rows are not consecutive, and a
        live row in a small sub-batch takes another kernel (decode_all keeps live slots low)."""
        n = step_rows(max(live) + 1)
        rows = []
        for s in range(n):
            if s in live:
                rows.append((*live[s], s, True))
            else:  # clear what a finished sequence or the last pad row left
                self.lib.llama_memory_seq_rm(self.mem, s, -1, -1)
                rows.append((0, 0, s, True))
        self.decode_rows(rows)  # every row asks logits: the output layer then sees the same row count
        return {s: self._argmax(s) for s in live}

    def move(self, src: int, dst: int) -> None:
        """Move a sequence to another (free) slot: the whole stream is copied, cell for cell."""
        self.lib.llama_memory_seq_rm(self.mem, dst, -1, -1)
        self.lib.llama_memory_seq_cp(self.mem, src, dst, -1, -1)
        self.lib.llama_memory_seq_rm(self.mem, src, -1, -1)


def decode_all(engine: BatchDecoder, prompts: dict[int, list[int]], groups: list[tuple[list[int], int]],
               finished: Callable[[int, list[int]], Any]) -> Iterator[tuple[int, Any]]:
    """Decode every prompt (index -> tokens) greedily, up to engine.slots at a time, started
    group by group from the group's prefix state (prefix_groups' (members, prefix length)).
    finished(index, generated) says whether a sequence is done: None to go on, anything else
    is yielded with the index (in the order sequences finish)."""
    order = [(i, p) for members, p in groups for i in members if i in prompts]
    live: dict[int, tuple[int, list[int]]] = {}
    k = 0
    while k < len(order) or live:
        while k < len(order) and len(live) < engine.slots:
            i, p = order[k]
            k += 1
            prompt = prompts[i]
            if p and engine.prefix != tuple(prompt[:p]):
                engine.set_prefix(prompt[:p])
            slot = min(set(range(engine.slots)) - set(live))  # the lowest free slot
            out = [engine.start(slot, prompt, p)]
            result = finished(i, out)
            if result is None:
                live[slot] = (i, out)
            else:
                yield i, result
        if not live:
            continue
        while max(live) + 1 > step_rows(len(live)):  # the last ones: fill the holes below them
            src, dst = max(live), min(set(range(engine.slots)) - set(live))
            engine.move(src, dst)
            live[dst] = live.pop(src)
        step = engine.step({s: (out[-1], len(prompts[i]) + len(out) - 1) for s, (i, out) in live.items()})
        for slot, token in step.items():
            i, out = live[slot]
            out.append(token)
            result = finished(i, out)
            if result is not None:
                del live[slot]
                yield i, result
