"""Static HTML: self-contained pages (inline CSS, no scripts, no network) for reports and the
leaderboard, so a CI job can publish the folder as is and a browser opens it from disk."""

from __future__ import annotations

from html import escape
from typing import Sequence

from codemind import resources

CSS = resources.text("codemind.report", "style.css")  # inlined in every page


def _is_num(text: str) -> bool:
    t = text.split(" ")[0].replace("+", "").replace("-", "").replace(".", "")
    return t.isdigit()


def table(head: Sequence[str], rows: Sequence[Sequence[str]], table_id: str = "") -> str:
    ident = f' id="{escape(table_id)}"' if table_id else ""
    out = [f"<table{ident}>", "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead>",
           "<tbody>"]
    for r in rows:
        out.append("<tr>" + "".join(f'<td class="num">{escape(c)}</td>' if _is_num(c) else f"<td>{escape(c)}</td>"
                                    for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def figure(src: str, caption: str, alt: str = "") -> str:
    return (f'<figure><img src="{escape(src)}" alt="{escape(alt or caption)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def section(title: str, body: str, note: str = "") -> str:
    n = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section><h2>{escape(title)}</h2>{n}\n{body}\n</section>"


def page(title: str, sections: Sequence[str], intro: str = "") -> str:
    p = f'<p class="note">{escape(intro)}</p>' if intro else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body><h1>{escape(title)}</h1>{p}\n"
            + "\n".join(sections) + "\n</body></html>\n")


def report_html(result: dict) -> str:
    """`codemind report --format html`: the report's tables as one page."""
    from codemind.report.render import _rows, comparison_rows, effect_rows, pivot

    models = {m["group"].get("model") for m in result["metrics"]}
    head, rows = pivot(result) if len(models) > 1 else _rows(result)
    sections = [section("Accuracy (%)", table(head, rows, "accuracy"), "95% Wilson score intervals.")]
    if result.get("comparisons"):
        sections.append(section("Paired comparison", table(*comparison_rows(result["comparisons"]), "paired")))
    if result.get("constructs"):
        sections.append(section("With vs without each construct", table(*effect_rows(result["constructs"]),
                                                                         "constructs")))
    return page("CodeMind report", sections)
