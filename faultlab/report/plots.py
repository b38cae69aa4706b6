"""Measured comparisons drawn as SVG, from the measurement's own table (``faultlab.claims.Plot`` says which columns).

matplotlib draws them (a bare ``Figure`` saved as SVG: no pyplot, no display, no global state). The SVG is made byte-stable for a given table: a fixed
hash salt for element ids, no creation date in the metadata, text kept as text. It is only imported when a report
has a plot to draw.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def render_svg(table: Sequence[Mapping[str, Any]], plot: Mapping[str, Any], *, title: str = "") -> str:
    """The SVG text of ``plot`` (a ``Plot.to_json()``) drawn from ``table``. Rows whose x or y is missing (None, or
    a value that is not a number for y) are left out, not drawn as zero."""
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state is touched

    x, y, series, kind = plot["x"], plot["y"], plot.get("series"), plot.get("kind", "line")
    ys = [y] if isinstance(y, str) else list(y)
    groups: dict[Any, list[tuple[Any, float]]] = {}
    for row in table:
        for column in ys:
            xv, yv = row.get(x), row.get(column)
            if xv is None or not isinstance(yv, (int, float)) or isinstance(yv, bool):
                continue
            groups.setdefault(row.get(series) if series else column, []).append((xv, float(yv)))
    for name, points in groups.items():  # several rows at one x (seeded runs of one cell): their mean
        sums: dict[Any, list[float]] = {}
        for xv, yv in points:
            sums.setdefault(xv, []).append(yv)
        groups[name] = [(xv, sum(v) / len(v)) for xv, v in sums.items()]
    with matplotlib.rc_context({"svg.hashsalt": "faultlab", "svg.fonttype": "none", "font.size": 9}):
        fig = Figure(figsize=(6.4, 3.6))
        ax = fig.add_subplot()
        if kind == "bar":
            xs = list(dict.fromkeys(xv for points in groups.values() for xv, _ in points))
            width = 0.8 / max(1, len(groups))
            for i, (name, points) in enumerate(groups.items()):
                at = dict(points)
                ax.bar([j + i * width for j, xv in enumerate(xs) if xv in at], [at[xv] for xv in xs if xv in at],
                       width, label=str(name))
            ax.set_xticks([j + width * (len(groups) - 1) / 2 for j in range(len(xs))], [str(v) for v in xs])
        else:
            for name, points in groups.items():
                points.sort(key=lambda p: p[0])
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=str(name))
        if plot.get("log_y"):
            ax.set_yscale("log")
        ax.set_xlabel(x)
        if isinstance(y, str):  # several columns: the legend names them
            ax.set_ylabel(y)
        ax.set_title(plot.get("title") or title, fontsize=9)
        if len(groups) > 1:
            ax.legend(title=series, fontsize=8)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": "faultlab"})
    return out.getvalue()


def write_plot(out: Path, protocol: str, claim_text: str, evidence: Mapping[str, Any]) -> Path | None:
    """Draw a measured claim's plot into ``out/plots/`` (named by protocol and claim, so verify and claims write the
    same file for the same claim); None when the measurement has no plot or nothing to draw."""
    plot, table = evidence.get("plot"), evidence.get("table")
    if not plot or not table:
        return None
    digest = hashlib.sha256(f"{protocol}\0{claim_text}\0{json.dumps(plot, sort_keys=True)}".encode()).hexdigest()
    path = out / "plots" / f"{protocol}-{digest[:10]}.svg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_svg(table, plot, title=f"{protocol}: {claim_text}"[:90]), encoding="utf-8")
    return path
