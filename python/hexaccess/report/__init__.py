"""A self-contained HTML report of an accessibility study (``hexaccess report``).

One HTML file that works offline: nothing is fetched (no CDN, no fonts, no script).
Charts and the hexagon maps are matplotlib PNGs embedded as base64 ``data:`` URIs; the
municipality choropleths are inline SVG whose ``<title>`` elements show each
municipality's numbers on hover without any script. Every number shown is a number of
:mod:`hexaccess.analysis` (the CSV tables written beside the report), only formatted.

Why static maps and not an interactive one: an interactive web map needs a map library
(Leaflet/MapLibre, 40-200 KB of script inlined in every report) and, to be worth it, a
basemap whose tiles come from a server, which the offline requirement excludes; and
drawing a national grid of 100,000-200,000 hexagons as vector features in the browser
makes a page of tens of megabytes that is slow to open. A PNG at a readable size (the
national map is 620 pixels wide and, for Finland, about 1,250 tall) carries the whole
grid in a few hundred kilobytes, prints as it looks and shows the same on every
machine; the few hundred municipalities are the one layer small enough to be vectors,
so they get the hover tooltips.

Layout, at a 1,400-pixel window (content 1,320 pixels wide):

- the first screen (``#overview``): title; key numbers per network (people, mean time,
  the share within each coverage threshold in minutes, the unreachable); the band chart
  against the reference with its numbers; beside them the national map of the first
  network (travel time per hexagon, municipal borders, offices, the largest catchments
  named, colour bar in minutes, scale bar, north arrow);
- per network (``#network-n1`` ...): coverage and means; the municipality choropleth of
  mean time beside the municipalities with the longest trips and the largest
  catchments (the top rows, the whole CSV linked); the band table, the network's own
  map and language access in folds (``<details>``);
- the comparison (``#comparison``): who gains and who loses, a map of the change of
  travel time for each network against the baseline, the bands side by side;
- how it was made (``#provenance``).

Tables fit their container (fixed layout over the full width, column widths from their
content, wrapped headers; never a horizontal scroll bar): long tables show their top
rows and the reader's columns and link the whole CSV written beside the report; band
tables merge the near-empty trailing bands into one "N+" row
(:func:`hexaccess.analysis.band_tail_start`).

Measured at 1,400 pixels (``tests/analysis/test_report_render.py``, which bounds the
height at 4,500 / 7,500 / 9,000 pixels for one / two / three networks, folds closed):
the synthetic Finland-sized country (115,366 cells) is 2,971 pixels tall and 0.72 MB
for one network, 7,255 pixels and 2.3 MB for three; the real Finnish inputs (200,270
cells, two networks) 5,767 pixels and 0.97 MB. The national map of Finland draws in
about 1.3 s and encodes in 0.9 s (a 208 KB PNG); the municipal borders are derived
once per report (3 s).
"""

from __future__ import annotations

from hexaccess.report.charts import band_chart
from hexaccess.report.maps import MAX_MAP_CELLS, Geography, coverage_map, geography
from hexaccess.report.page import write_report

__all__ = ["MAX_MAP_CELLS", "Geography", "band_chart", "coverage_map", "geography", "write_report"]
