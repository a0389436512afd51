"""Scoring: pass@k and re-scoring of published CRUXEval result files."""

from codemind.scoring.passk import file_pass_at_k, pass_at_k, sample_pass_at_k

__all__ = ["pass_at_k", "sample_pass_at_k", "file_pass_at_k"]
