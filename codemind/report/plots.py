"""matplotlib figures for the leaderboard: accuracy per construct per model (grouped bars with
95% intervals) and accuracy against complexity (one line per model). Written as PNG files
(Agg backend, no display needed) next to the page that embeds them."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


def _pyplot():
    try:
        import matplotlib
    except ImportError as e:  # pragma: no cover - depends on the [analysis] extra
        raise ImportError("plots need matplotlib: pip install 'codemind[analysis]'") from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _err(acc: list[float], lo: list[float], hi: list[float]) -> list[list[float]]:
    return [[max(0.0, a - lo_) for a, lo_ in zip(acc, lo)], [max(0.0, hi_ - a) for a, hi_ in zip(acc, hi)]]


def grouped_bars(
    path: Path, categories: Sequence[str], series: dict[str, list[tuple[float, float, float] | None]], title: str,
    ylabel: str = "accuracy (%)",
) -> Path:
    """One group of bars per category, one bar per series (model); values are (acc, lo, hi)
    in [0, 1]; None leaves a gap."""
    plt = _pyplot()
    n = max(1, len(series))
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(categories) * max(1, n) ** 0.5 + 2), 4.2), dpi=100)
    for i, (name, values) in enumerate(series.items()):
        xs = [j + (i - (n - 1) / 2) * width for j, v in enumerate(values) if v is not None]
        vs = [v for v in values if v is not None]
        acc = [100 * v[0] for v in vs]
        err = _err(acc, [100 * v[1] for v in vs], [100 * v[2] for v in vs])
        ax.bar(xs, acc, width=width, label=name, yerr=err, capsize=2, error_kw={"elinewidth": 0.8})
    ax.set_xticks(range(len(categories)))
    ax.set_xticklabels(categories, rotation=30, ha="right")
    ax.set_ylim(0, 100)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def lines(
    path: Path, categories: Sequence[str], series: dict[str, list[tuple[float, float, float] | None]], title: str,
    xlabel: str, ylabel: str = "accuracy (%)",
) -> Path:
    """One line per series over ordered categories (complexity bins) with a 95% band."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=100)
    for name, values in series.items():
        pts = [(j, v) for j, v in enumerate(values) if v is not None]
        if not pts:
            continue
        xs = [j for j, _ in pts]
        acc = [100 * v[0] for _, v in pts]
        (line,) = ax.plot(xs, acc, marker="o", label=name)
        ax.fill_between(xs, [100 * v[1] for _, v in pts], [100 * v[2] for _, v in pts], alpha=0.15,
                        color=line.get_color())
    ax.set_xticks(range(len(categories)))
    ax.set_xticklabels(categories)
    ax.set_ylim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
