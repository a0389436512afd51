"""CodeMind: evaluate how well language models reason about code."""

__version__ = "0.1.0"


def load(path_or_glob, features: bool = True):
    """Samples of one or more run directories as a pandas DataFrame joined with program
    features (see codemind.store.load). Imported lazily: `import codemind` stays light."""
    from codemind.store.load import load as _load

    return _load(path_or_glob, features=features)
