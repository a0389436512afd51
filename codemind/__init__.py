"""CodeMind: evaluate how well language models reason about code."""

__version__ = "0.1.0"
