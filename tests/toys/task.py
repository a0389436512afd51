"""A throwaway task for tests/test_adding.py: IER under another name, with IER's prompts and a
summary of its own (how many samples had an answer)."""

from __future__ import annotations

from codemind.tasks.ier import IER


class AnsweredTask(IER):
    name = "toy-answered"
    summary_alone = True

    def prompt_spec(self, prompt_id):
        return IER().prompt_spec(prompt_id)  # no prompts of its own

    def summarize(self, samples):
        return {"n": len(samples), "answered": sum(s["extracted"] is not None for s in samples)}

    def summary_cells(self, summary):
        return {"toy answered": f"{summary['answered']}/{summary['n']}"}


class LeakyTask(IER):
    """A buggy task for tests/test_label_only.py: it builds label-only items whatever the
    run's judge, which the pipeline must refuse rather than judge on executed output."""

    name = "toy-leaky"

    def prompt_spec(self, prompt_id):
        return IER().prompt_spec(prompt_id)

    def plan(self, ctx):
        ctx.label_judge = True
        return super().plan(ctx)
