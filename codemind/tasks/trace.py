"""Trace questions: what a program does on the way to its output (docs/trace.md).

One task, five stages over the same traced (program, input): ``coverage`` (is line L executed?),
``state`` (the value of v right after L first runs, Nil if it never does), ``path`` (which line
runs right after L), ``loops`` (how many times the loop at L' iterates) and ``output`` (the return
value). Coverage, state and path ask about the same line L and variable v, which the seeded
sampler (tracing.choose) picked from the lines that assign a local, as REval's chain does, so
``summarize`` can score REval's incremental consistency per (program, input): 1 when coverage,
state, path and output are right, 0.5 when only output is wrong, 0.25 when path and output are,
0.125 when only coverage is right, else 0.

Every program is traced in the run's sandbox first (through the execution cache); a program
whose determinism is probed (ClassEval) is traced once more, under another clock and another
random seed (every trace job seeds the random module: the same job gives the same trace), and
left out when the two traces differ; a program whose trace fails is left out
of every stage with the reason, as are programs the static screen refuses (tracing.screen). The sampler's choices, the caps and the failures are in the manifest
(``trace``). Each stage is judged by the ``trace`` judge, which never executes an answer.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator, Sequence

from codemind.errors import UserError
from codemind.schema import Item, Program, TestInput
from codemind.tasks import tracing
from codemind.tasks.base import (NOT_FUNCTION, NOT_PYTHON, RUNNABLE, Stage, StageContext, TaskBuilder, Truth,
                                 input_problem, record_usage, usage)
from codemind.tasks.dsr import mean_score, score_cell
from codemind.tasks.summary import rate, rate_cell

STAGES = ("coverage", "state", "path", "loops", "output")
CHAIN = ("coverage", "state", "path", "output")  # REval's incremental consistency, in order
JUDGE = "trace"

NOT_TRACEABLE = "not traceable"  # the static screen: it names what tracing depends on
TRACE_FAILED = "trace failed"  # the trace job failed, or the traced run differs from the untraced one
NO_QUESTION = "no traced line to ask about"  # no line that assigns a local with a plain value
NO_LOOP = "no loop executed"


def consistency_weight(right: dict[str, bool]) -> float:
    """REval's incremental consistency of one chain (evaluation.py Consistency.run): credit for
    the right prefix of coverage -> state -> path -> output, only when every later one is wrong."""
    c, s, p, o = (bool(right.get(k)) for k in CHAIN)
    if c and s and p and o:
        return 1.0
    if c and s and p and not o:
        return 0.5
    if c and s and not p and not o:
        return 0.25
    if c and not s and not p and not o:
        return 0.125
    return 0.0


class TraceTask(TaskBuilder):
    name = "trace"
    default_judge = JUDGE
    title = "Trace"
    summary_alone = True

    def static_problem(self, program: Program) -> str | None:
        if program.language != "python":
            return NOT_PYTHON
        if program.kind != "function":
            return NOT_FUNCTION
        why = tracing.screen(program.source)
        return f"{NOT_TRACEABLE}: {why}" if why else None

    def default_prompt(self, program: Program) -> str:
        return STAGES[0]

    def budget_prompts(self, program: Program, prompt_id: str | None) -> list[str]:
        return list(STAGES)

    def check_prompt(self, prompt_id: str) -> None:
        raise UserError(f"task trace asks each stage with its own prompt ({', '.join(STAGES)}); "
                        f"--prompt does not apply to it")

    def build(self, programs, truths, prompt_id):
        raise NotImplementedError("trace traces its programs in the sandbox first: see plan()")

    def plan(self, ctx: StageContext) -> Iterator[Stage]:
        if ctx.run_jobs is None:
            raise RuntimeError("the trace task needs the run's sandbox (StageContext.run_jobs)")
        unusable: dict[str, str] = {}
        pairs: list[tuple[Program, TestInput, Truth]] = []
        for p in ctx.programs:
            why = self.static_problem(p) or input_problem(p, ctx.truths)
            if why:
                unusable[p.id] = why
                continue
            for inp in p.inputs:
                t = ctx.truths.get((p.id, inp.index))
                if t is not None and t.status in RUNNABLE and inp.call is not None:
                    pairs.append((p, inp, t))
        probed = [k for k, (p, _, _) in enumerate(pairs) if p.meta.get("determinism_probe")]
        jobs = [tracing.trace_job(p, inp) for p, inp, _ in pairs]
        jobs += [tracing.probe_job(pairs[k][0], pairs[k][1]) for k in probed]
        executions = ctx.run_jobs(jobs) if jobs else []
        probes = dict(zip(probed, executions[len(pairs):]))
        record: dict = {"sampler": tracing.SAMPLER, "seed": ctx.seed, "caps": tracing.caps(), "traced": 0,
                        "truncated": 0, "failed": {}, "questions": {}}
        chosen: list[tuple[Program, TestInput, Truth, dict]] = []
        failed: dict[str, str] = {}
        for k, ((p, inp, t), ex) in enumerate(zip(pairs, executions)):
            key = f"{p.id}#{inp.index}"
            trace, why = tracing.read_trace(ex, t.expected)
            if trace is not None and k in probes:
                again, why = tracing.read_trace(probes[k], t.expected)
                if again is not None and not tracing.same_trace(trace, again):
                    why = "nondeterministic: traced again (another clock, another random seed) it differs"
                if why:
                    trace = None
            if trace is None:
                record["failed"][key] = why
                failed.setdefault(p.id, f"{TRACE_FAILED}: {why}")
                continue
            choice = tracing.choose(p, inp, trace, ctx.seed)
            record["traced"] += 1
            record["truncated"] += int(trace.truncated)
            record["questions"][key] = choice
            chosen.append((p, inp, t, choice))
        ctx.manifest_extra["trace"] = record

        stages: dict[str, list[Item]] = {s: [] for s in STAGES}
        for p, inp, t, choice in chosen:
            chain, loop = choice["chain"], choice["loop"]
            if chain is not None:
                for stage in CHAIN:
                    stages[stage].append(self._question(p, inp, t, stage, chain))
            if loop is not None:
                stages["loops"].append(self._question(p, inp, t, "loops", loop))
        for stage, items in stages.items():
            used = {i.program_id for i in items}
            why = dict(unusable)
            for p in ctx.programs:
                if p.id not in used and p.id not in why:
                    why[p.id] = failed.get(p.id) or (NO_LOOP if stage == "loops" else NO_QUESTION)
            record_usage(ctx, stage, usage(ctx.programs, items, why))
        for stage in STAGES:
            yield Stage(stage, stages[stage], judge=JUDGE)

    def _question(self, program: Program, inp: TestInput, truth: Truth, stage: str, q: dict) -> Item:
        line = q.get("line")
        extra = {"code": tracing.numbered(program.source)}
        if line is not None:
            extra["line"] = str(line)
        if q.get("variable"):
            extra["variable"] = q["variable"]
        item = self._item(program, inp, truth, self.prompt_spec(stage), expected_in_prompt=False, stage=stage,
                          extra=extra)
        question: dict = {"question": stage}
        if stage == "output":
            expected = truth.expected
            question.update(line=line, variable=q.get("variable"))
        elif stage == "coverage":
            expected = "yes" if q["executed"] else "no"
            question.update(line=line, variable=q["variable"], executed=q["executed"])
        elif stage == "state":
            value = None if q["state"] == tracing.NIL else q["state"]
            expected = tracing.NIL if value is None else _repr_of(value)
            question.update(line=line, variable=q["variable"], executed=q["executed"], value=value)
        elif stage == "path":
            expected = str(q["path"])
            question.update(line=line, variable=q["variable"], executed=q["executed"])
        else:  # loops
            expected = str(q["iterations"])
            question.update(line=line)
        item.context["question"] = question
        return item.model_copy(update={"expected": expected})

    # ---------------------------------------------------------------- the report

    def summarize(self, samples: Sequence[dict]) -> dict:
        by_stage = {s: [x for x in samples if x.get("stage") == s] for s in STAGES}
        chains: dict[tuple, dict[str, bool]] = defaultdict(dict)
        for s in samples:
            if s.get("stage") in CHAIN:
                chains[(s["benchmark"], s["program_id"], s["input_index"], s["sample_index"])][s["stage"]] = s["correct"]
        complete = [c for c in chains.values() if all(k in c for k in CHAIN)]
        return {
            **{stage: rate(x["correct"] for x in rows) for stage, rows in by_stage.items()},
            "consistency": mean_score([consistency_weight(c) for c in complete]),
            "chain_all_right": rate(all(c[k] for k in CHAIN) for c in complete),
        }

    def summary_cells(self, summary: dict) -> dict[str, str]:
        cells = {f"trace {stage}": rate_cell(summary.get(stage)) for stage in STAGES}
        cells["trace consistency"] = score_cell(summary.get("consistency"))
        return cells


def _repr_of(encoded: str) -> str:
    from codemind.sandbox.runner.plainvalues import decode

    return repr(decode(encoded))


# ---------------------------------------------------------------- answers


def extract_answer(text: str) -> str | None:
    """The trace prompts' answer: the text up to ``[/ANSWER]`` (the stop word), after the last
    ``[ANSWER]`` when the reply repeats it; stripped. None when blank."""
    seg = text.split("[/ANSWER]")[0]
    if "[ANSWER]" in seg:
        seg = seg.rsplit("[ANSWER]", 1)[1]
    seg = seg.strip()
    return seg or None


def extract_answer_lenient(text: str) -> str | None:
    """As extract_answer, then for chat replies: a code fence unwrapped, an ``Answer:`` prefix
    dropped, and only the first non-empty line kept ("7\\nBecause..." gives 7)."""
    import re

    seg = extract_answer(text)
    if seg is None:
        return None
    fence = re.search(r"```[ \t]*[A-Za-z0-9_+-]*[ \t]*\n?(.*?)```", seg, re.S)
    if fence:
        seg = fence.group(1)
    lines = [line.strip() for line in seg.splitlines() if line.strip()]
    if not lines:
        return None
    first = re.sub(r"^(?:the\s+)?answer\s*(?:is)?\s*[:=]?\s*", "", lines[0], flags=re.I).strip()
    return first or None
