"""`related evaluate --report`: one self-contained HTML page with the table and the curves."""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime
from pathlib import Path

from service.evaluate import CURVE_DEPTH, Evaluation


def _chart_png(evaluation: Evaluation) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to a buffer
    import matplotlib.pyplot as plt

    ks = list(range(1, CURVE_DEPTH + 1))
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    for name, curves in evaluation.curves.items():
        style = {"linewidth": 2.6} if name == "service" else {"linewidth": 1.4, "alpha": 0.85}
        axes[0].plot(ks, curves["recall"], label=name, **style)
        axes[1].plot(ks, curves["ndcg"], label=name, **style)
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


def write_report(
    evaluation: Evaluation, path: Path, *, title: str = "Related articles: evaluation"
) -> None:
    best = evaluation.best()
    columns = list(next(iter(evaluation.methods.values())))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = []
    for name, metrics in evaluation.methods.items():
        cells = "".join(
            f'<td class="{"best" if best[c] == name else ""}">{metrics[c]:.3f}</td>'
            for c in columns
        )
        rows.append(f"<tr><th>{html.escape(name)}</th>{cells}</tr>")
    chart = base64.b64encode(_chart_png(evaluation)).decode("ascii")
    counts = evaluation.counts
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ padding: 4px 8px; border-bottom: 1px solid #ddd; text-align: right; }}
tr th:first-child {{ text-align: left; }}
td.best {{ font-weight: bold; background: #e7f5e7; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{counts["sources_evaluated"]} source articles evaluated ({
        counts["sources_skipped_total"]
    } skipped:
{html.escape(str(counts["sources_skipped"]))}), {counts["links_evaluated"]} curated links,
{counts["links_missing"]} links to articles not indexed{
        f", {counts['links_set_aside']} links to later articles set aside (past only)"
        if evaluation.past_only
        else ""
    },
{counts["candidates"]} candidate articles, index generation {html.escape(counts["generation"])}.
Best value per column in bold.</p>
<table><thead><tr><th>method</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>
<img alt="recall@k and nDCG@k for k = 1..{CURVE_DEPTH}, every method" src="data:image/png;base64,{
        chart
    }">
<p><small>Generated {
        datetime.now(UTC).isoformat(timespec="seconds")
    } by related evaluate.</small></p>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
