"""`related evaluate --report`: one self-contained HTML page for editors.

It renders the saved evaluation document (`service.quality.latest`): what was evaluated (the
links, the options, the counts), the table with what each metric and method means, the
recall@k and nDCG@k curves, figures per section, a few articles with the editors' links and
the service's list side by side, and the articles served worst. No script and nothing fetched:
the chart is an embedded PNG, so the page can be mailed or archived as it is.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from service.disk.atomic import atomic_write_text
from service.quality.evaluate import CURVE_DEPTH
from service.quality.glossary import metric_name
from service.quality.latest import worst_first

WORST_LISTED = 10

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #1d2125;
       padding: 0 1em; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { padding: 4px 9px; border-bottom: 1px solid #ddd; text-align: right; vertical-align: top; }
tr th:first-child, td.text, th.text { text-align: left; }
td.best { font-weight: bold; background: #e6f4ea; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
dl.terms dt { font-weight: 600; margin-top: 0.4em; } dl.terms dd { margin-left: 1.2em; }
.muted { color: #5a6270; } .found { color: #1b6e35; } .missed { color: #a3261b; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5em; }
.pair ol { padding-left: 1.4em; margin: 0.3em 0; } .pair li { margin: 0.2em 0; }
img { max-width: 100%; }
@media (max-width: 700px) { .pair { grid-template-columns: 1fr; } }
"""


def _chart_png(curves: dict[str, dict[str, list[float]]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to a buffer
    import matplotlib.pyplot as plt

    ks = list(range(1, CURVE_DEPTH + 1))
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    for name, curve in curves.items():
        style = {"linewidth": 2.6} if name == "service" else {"linewidth": 1.4, "alpha": 0.85}
        axes[0].plot(ks, curve["recall"], label=name, **style)
        axes[1].plot(ks, curve["ndcg"], label=name, **style)
    for axis, title in zip(axes, ("recall@k", "nDCG@k"), strict=True):
        axis.set_title(title)
        axis.set_xlabel("k")
        axis.set_xticks([1, 5, 10, 15, 20])
        axis.grid(alpha=0.3)
    axes[1].legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _e(value: Any) -> str:
    return escape(str(value))


def _links_source(links: dict[str, Any]) -> str:
    if links.get("kind") == "file":
        return f"the links file <code>{_e(links['path'])}</code>"
    return (
        f"the curated links stored in the service ({links.get('sources', 0)} articles, "
        f"{links.get('links', 0)} links)"
    )


def what_was_evaluated(doc: dict[str, Any]) -> str:
    counts = doc["counts"]
    skipped = ", ".join(
        f"{n} {_e(why).replace('_', ' ')}" for why, n in counts["sources_skipped"].items()
    )
    options = "".join(
        f"<tr><th>{_e(name)}</th><td class='text'><code>{_e(value)}</code></td></tr>"
        for name, value in doc["options"].items()
        if value is not None and value != []
    )
    aside = (
        f" Only articles published before each source were candidates; {counts['links_set_aside']} "
        "links to later articles were set aside."
        if doc["past_only"]
        else ""
    )
    return f"""<h2>What was evaluated</h2>
<p>The related lists of {counts["sources_evaluated"]} articles were compared with
{_links_source(doc["links"])}: {counts["links_evaluated"]} curated links
({counts["links_missing"]} more point to articles that are not indexed, and do not count).
{counts["sources_skipped_total"]} articles were skipped{f" ({skipped})" if skipped else ""}.
Every method ranked the same {counts["candidates"]} candidate articles of index generation
<code>{_e(counts["generation"])}</code>, never the article itself.{aside}</p>
<table><caption>Options of the service's lists</caption><tbody>{options}</tbody></table>"""


def methods_table(doc: dict[str, Any]) -> str:
    methods: dict[str, dict[str, float]] = doc["methods"]
    columns = list(next(iter(methods.values()))) if methods else []
    glossary = doc["glossary"]
    head = "".join(
        f"<th title='{_e(glossary['metrics'].get(metric_name(c), ''))}'>{_e(c)}</th>"
        for c in columns
    )
    rows = []
    for name, metrics in methods.items():
        cells = "".join(
            f'<td class="{"best" if doc["best"].get(c) == name else ""}">{metrics[c]:.3f}</td>'
            for c in columns
        )
        rows.append(f"<tr><th>{_e(name)}</th>{cells}</tr>")
    return f"""<h2>The figures</h2>
<p>Each figure is the mean over the evaluated articles of one list's first k
(k = {", ".join(map(str, doc["cutoffs"]))}); 1.0 would be the editors' own links, in their order.
The best value of each column is in bold.</p>
<table><thead><tr><th>method</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>
<div class="pair"><dl class="terms">{_terms(glossary["metrics"], suffix="@k")}</dl>
<dl class="terms">{_terms(glossary["methods"])}</dl></div>"""


def _terms(terms: dict[str, str], suffix: str = "") -> str:
    return "".join(
        f"<dt>{_e(name)}{suffix}</dt><dd>{_e(text)}</dd>" for name, text in terms.items()
    )


def sections_table(doc: dict[str, Any]) -> str:
    k = doc["cutoff"]
    rows = "".join(
        f"<tr><th>{_e(s['section'] or '(no section)')}</th><td>{s['sources']}</td>"
        f"<td>{s['links']}</td><td>{s['recall']:.3f}</td><td>{s['ndcg']:.3f}</td>"
        f"<td>{s['hit_rate']:.3f}</td></tr>"
        for s in doc["sections"]
    )
    return f"""<h2>By section</h2>
<p>The service's lists, grouped by the section of the article they appear under.</p>
<table><thead><tr><th>section</th><th>articles</th><th>curated links</th><th>recall@{k}</th>
<th>nDCG@{k}</th><th>hit rate@{k}</th></tr></thead><tbody>{rows}</tbody></table>"""


def _titled(item: dict[str, Any]) -> str:
    return _e(item["title"]) if item.get("title") else f"<code>{_e(item['id'])}</code> (not stored)"


def _side_by_side(example: dict[str, Any], k: int) -> str:
    curated = "".join(
        f"<li>{_titled(link)} "
        + (
            f"<span class='found'>✓ found at {link['rank']}</span>"
            if link["rank"]
            else "<span class='missed'>✗ missed</span>"
        )
        + "</li>"
        for link in example["curated"]
    )
    service = "".join(
        f"<li>{_titled(item)}{' <span class=found>✓ curated</span>' if item['curated'] else ''}</li>"
        for item in example["service"]
    )
    return f"""<h3>{_e(example["title"])}</h3>
<p class="muted">{_e(example["section"] or "no section")} · <code>{_e(example["id"])}</code> ·
recall@{k} {example["recall"]:.2f} · nDCG@{k} {example["ndcg"]:.2f}</p>
<div class="pair"><div><strong>Linked by the editors</strong><ol>{curated}</ol></div>
<div><strong>The service's first {k}</strong><ol>{service}</ol></div></div>"""


def examples(doc: dict[str, Any]) -> str:
    if not doc["examples"]:
        return ""
    shown = "".join(_side_by_side(example, doc["cutoff"]) for example in doc["examples"])
    return f"""<h2>Examples, side by side</h2>
<p>The best-served article, two from in between and the worst-served: what the editors linked
beside what the service lists.</p>{shown}"""


def worst(rows: Iterable[dict[str, Any]], k: int) -> str:
    listed = worst_first(list(rows))[:WORST_LISTED]
    if not listed:
        return ""
    items = "".join(
        f"<tr><td class='text'>{_e(r['title'])}<br><code class='muted'>{_e(r['id'])}</code></td>"
        f"<td class='text'>{_e(r['section'] or '–')}</td><td>{len(r['found'])} of "
        f"{len(r['curated'])}</td><td>{r['recall']:.3f}</td><td>{r['ndcg']:.3f}</td></tr>"
        for r in listed
    )
    return f"""<h2>Served worst</h2>
<p>The articles whose lists find the fewest of their curated links: review them on the
editors' page (<code>/ui/articles/&lt;id&gt;</code>).</p>
<table><thead><tr><th class="text">article</th><th class="text">section</th><th>found</th>
<th>recall@{k}</th><th>nDCG@{k}</th></tr></thead><tbody>{items}</tbody></table>"""


def render_report(doc: dict[str, Any], *, title: str = "Related articles: evaluation") -> str:
    chart = base64.b64encode(_chart_png(doc["curves"])).decode("ascii")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{STYLE}</style></head><body>
<h1>{_e(title)}</h1>
<p class="muted">How well the automatic related lists match the links editors curated by hand,
and how simple alternatives compare. Evaluated {_e(doc["created_at"])}.</p>
{what_was_evaluated(doc)}
{methods_table(doc)}
<h2>As the list grows</h2>
<img alt="recall@k and nDCG@k for k = 1 to {CURVE_DEPTH}, one line per method; the service's
line is the thickest" src="data:image/png;base64,{chart}">
{sections_table(doc)}
{examples(doc)}
{worst(doc["sources"], doc["cutoff"])}
<p class="muted"><small>Generated {datetime.now(UTC).isoformat(timespec="seconds")} by
<code>related evaluate</code>.</small></p>
</body></html>
"""


def write_report(doc: dict[str, Any], path: Path) -> None:
    """Write the page for evaluation document `doc` to `path`, atomically."""
    atomic_write_text(path, render_report(doc))
