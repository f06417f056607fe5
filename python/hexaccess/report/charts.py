"""Charts of the report: the band chart (matplotlib), and embedding a figure as a PNG."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from hexaccess import analysis, defaults
from hexaccess._extras import require

#: Pixels per inch of every embedded figure: one CSS pixel per image pixel at 100 %, so a
#: figure of ``w`` inches is ``100 w`` pixels wide on the page.
DPI = 100


def mpl() -> Any:
    """``matplotlib.pyplot`` on the headless Agg backend (never needs a display); a
    :class:`~hexaccess.errors.MissingDependencyError` naming the ``report`` extra when
    matplotlib is not installed."""
    matplotlib = require("matplotlib", "report", "Drawing the report's maps and charts")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_bytes(fig: Any, *, tight: bool = False) -> bytes:
    """A figure as PNG bytes at :data:`DPI` (the figure is closed). Without ``tight`` the
    image has exactly the figure's size, so the page's layout can rely on it. The image
    is reduced to a 256-colour palette (a map of 25,000 hexagons: 350 KB instead of
    1.4 MB)."""
    plt = mpl()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight" if tight else None)
    plt.close(fig)
    return _palette_png(buf.getvalue())


def _palette_png(data: bytes) -> bytes:
    """``data`` re-encoded with a 256-colour adaptive palette (Pillow's octree: fast, and
    it keeps small areas of a distinct colour, such as the red office dots, which a
    median cut merges away), or unchanged when that is not smaller."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        small = img.convert("RGB").quantize(
            256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        # The palette entry nearest to white becomes white again: the octree averages
        # its bucket, which would tint the page's white background.
        pal = np.asarray(small.getpalette() or [255, 255, 255], dtype=np.int64).reshape(-1, 3)
        pal[np.argmin(((255 - pal) ** 2).sum(axis=1))] = 255
        small.putpalette(pal.astype(np.uint8).ravel().tolist())
        out = io.BytesIO()
        small.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(data) else data


def img_tag(data: bytes, alt: str, *, css_class: str = "", ident: str = "") -> str:
    """An ``<img>`` with the PNG ``data`` inline (base64 ``data:`` URI), its natural size
    as ``width``/``height`` (the layout does not jump while it decodes)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        w, h = img.size
    attrs = f' class="{css_class}"' if css_class else ""
    attrs += f' id="{ident}"' if ident else ""
    b64 = base64.b64encode(data).decode("ascii")
    return (
        f'<img{attrs} alt="{html.escape(alt)}" width="{w}" height="{h}" '
        f'src="data:image/png;base64,{b64}">'
    )


def _labelled(table: pd.DataFrame) -> pd.DataFrame:
    """The table with a ``band`` label column (added from the band edges if missing)."""
    if "band" in table.columns:
        return table
    return table.assign(band=analysis.band_labels(table["band_start_min"], table["band_end_min"]))


def band_chart(
    tables: Mapping[str, pd.DataFrame],
    reference: pd.DataFrame | None = None,
    title: str = "",
    *,
    trim_tail: bool = True,
    xlabel: str = "one-way travel time to the nearest office, minutes",
    size: tuple[float, float] = (9.0, 3.6),
) -> Any:
    """Grouped bars of the share per band (``share_pct``) for each table, in order, and a
    reference table last (drawn as black outlined bars, so it reads as the yardstick).
    Tables need ``band`` labels or ``band_start_min`` and ``band_end_min``. With
    ``trim_tail``, trailing bands where every table has under 0.05 % are left out.
    ``size`` is the figure's size in inches (100 pixels each in the report)."""
    plt = mpl()
    series = {
        n: _labelled(t[t["band"] != "unreachable"] if "band" in t else t) for n, t in tables.items()
    }
    if reference is not None:
        series["reference"] = _labelled(reference)
    labels: list[str] = []
    for t in series.values():
        for b in t["band"]:
            if b not in labels:
                labels.append(b)
    shares = {
        n: t.set_index("band")["share_pct"].reindex(labels).fillna(0.0) for n, t in series.items()
    }
    if trim_tail:
        # Trailing bands with (almost) nobody say nothing on a chart.
        keep = max(
            (int(np.flatnonzero(s.to_numpy() >= 0.05).max(initial=0)) for s in shares.values()),
            default=0,
        )
        labels = labels[: keep + 1]
    labels, shares, merged = _merge_bars(labels, shares, series)
    if merged > 1:
        title = f"{title} (bars of {merged} neighbouring bands each)".strip()
    fig, ax = plt.subplots(figsize=size, layout="constrained")
    _draw_bars(ax, labels, shares, reference is not None)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_ylabel("share of population, %")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _draw_bars(ax: Any, labels: list[str], shares: dict[str, pd.Series], has_ref: bool) -> None:
    """One group of bars per band label; the reference (last, when given) outlined."""
    width = 0.8 / max(len(shares), 1)
    x = np.arange(len(labels))
    for k, (n, s) in enumerate(shares.items()):
        y = s.reindex(labels).to_numpy()
        pos = x + k * width - 0.4 + width / 2
        if has_ref and k == len(shares) - 1:
            ax.bar(pos, y, width, label=n, facecolor="#dddddd", edgecolor="black", linewidth=0.8)
        else:
            ax.bar(pos, y, width, label=n)
    ax.set_xticks(x, labels, rotation=45 if len(labels) > 8 else 0, ha="right")


def _merge_bars(
    labels: list[str], shares: dict[str, pd.Series], series: Mapping[str, pd.DataFrame]
) -> tuple[list[str], dict[str, pd.Series], int]:
    """At most :data:`hexaccess.defaults.MAX_CHART_BARS` bars: finer tables are drawn
    with ``k`` neighbouring bands summed into one bar (the CSV tables keep every band);
    returns the labels, the shares and ``k`` (1 when nothing was merged)."""
    if len(labels) <= defaults.MAX_CHART_BARS:
        return labels, shares, 1
    k = -(-len(labels) // defaults.MAX_CHART_BARS)
    edges: dict[str, tuple[float, float]] = {}
    for t in series.values():
        if {"band_start_min", "band_end_min"} <= set(t.columns):
            ends = zip(t["band_start_min"], t["band_end_min"], strict=True)
            edges.update(zip(t["band"], ends, strict=True))
    groups = [labels[i : i + k] for i in range(0, len(labels), k)]
    new_labels = []
    for g in groups:
        if g[0] in edges and g[-1] in edges:
            new_labels.append(f"{edges[g[0]][0]:g}-{edges[g[-1]][1]:g}")
        else:
            new_labels.append(f"{g[0]}…{g[-1]}")
    merged = {
        n: pd.Series([float(s.reindex(g).sum()) for g in groups], index=new_labels)
        for n, s in shares.items()
    }
    return new_labels, merged, k
