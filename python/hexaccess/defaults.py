"""Every default of a study, in one place: the Python API (:class:`hexaccess.Study`),
scenario files and the command line read them from here, so the same inputs give the
same numbers whichever way a study is run."""

from __future__ import annotations

#: H3 resolution of the population cells (res 8: about 0.74 km² a cell).
RESOLUTION = 8
#: Resolution of the hexagon friction graph (res 9: about 0.1 km² a cell).
HEX_RESOLUTION = 9
#: Travel mode; its packaged speed profile is :data:`MODE_PROFILES` [mode].
MODE = "car"
#: Packaged speed profile of each mode when no profile is given.
#: ``transit`` is public transport + walking on a GTFS timetable: its profile is a
#: transit profile (:func:`hexaccess.transit.load_transit_profile`), not a speed profile.
MODE_PROFILES = {"car": "car_fi", "walk": "walk", "bike": "bike", "transit": "transit"}
#: Graph kind: ``road`` or ``hex``.
GRAPH = "road"
#: Make every shape point of a road line a node, so people join the road that passes
#: them (the Finland study: 0–10 min band 24.4 % with, 16.3 % without).
SPLIT_ROADS = True
#: Which strongly connected components (SCCs) of the directed road graph of the mode
#: cells and offices may join (profile key ``[access] attach``): ``large_scc`` = the
#: largest SCC plus every SCC holding at least :data:`ATTACH_MIN_COMPONENT_KM` of road
#: (a real island keeps its people, honestly "in a component without an office" when
#: it has none, instead of a straight line across the water to the mainland);
#: ``office_scc`` = the largest plus the SCCs of at least that size holding an office;
#: ``largest_scc`` = the largest only; ``all`` = every node (no hygiene: a place may join
#: a one-way trap or a 3-node fragment from which no trip leaves).
ACCESS_ATTACH = "large_scc"
ACCESS_ATTACH_RULES = ("large_scc", "office_scc", "largest_scc", "all")
#: Road kilometres an SCC other than the largest needs to be joined (a parking-lot
#: one-way loop, a dead-end one-way stub or a fragment cut at the extract edge is less).
ATTACH_MIN_COMPONENT_KM = 2.0
#: A smaller road piece that is not linked to any other road at all (its own weakly
#: connected component) and lies farther than this (metres) from every kept node is an
#: island, not an artefact: it stays joinable, so its people are counted "in a component
#: without an office" rather than joined across the water; a piece nearer than this is a
#: gap in the data (a fragment by the main streets) and stays out.
ATTACH_ISLAND_GAP_M = 250.0
#: How a place joins the road (``[access] snap``): ``edge`` = the nearest point on the
#: nearest usable edge, which is split there (as R5 does); ``node`` = the nearest kept
#: node. ``edge`` by default: a cell beside a long edge joins the road that passes it,
#: not the nearest junction (R5's link to the street).
ACCESS_SNAP = "edge"
ACCESS_SNAP_MODES = ("edge", "node")
#: Engine backend: ``auto`` = the Rust core, else the Numba fallback.
BACKEND = "auto"

#: Width of the travel-time bands, minutes.
BAND_MINUTES = 10.0
#: Coverage thresholds reported in the tables, minutes and km.
COVERAGE_MINUTES = (30.0, 60.0, 90.0)
COVERAGE_KM = (40.0,)
#: Comparison of networks: report people whose time changes by more than this (min).
GAIN_LOSS_MINUTES = 5.0
#: Title of the HTML report.
TITLE = "Accessibility of service offices"

#: Optimisation: coverage-matrix cutoff (min), coverage threshold (min), cover target (%),
#: HiGHS time limit (s).
CUTOFF_MINUTES = 120.0
THRESHOLD_MINUTES = 60.0
COVER_PCT = 99.0
TIME_LIMIT_S = 60.0

#: Calibration: evaluations of the search and weight of the mean-time term.
MAX_EVALUATIONS = 400
MEAN_WEIGHT = 1.0

# ---------------------------------------------------------------------- limits
# Documented limits, checked where a setting enters the study layer (hexaccess.Study,
# ReportOptions, scenario files, hexaccess.calibrate), so Python and the command line
# refuse the same values with the same message.

#: H3 resolutions (both the population cells and the hexagon graph).
RESOLUTION_RANGE = (0, 15)
#: Most cells a hexagon friction graph may have (estimated from the study area before
#: it is built: mainland Finland is about 3 M cells at resolution 9, 21 M at 10).
MAX_HEX_CELLS = 25_000_000
#: Most travel-time bands of a band table (a width of 1e-5 minutes would build millions
#: of bands, gigabytes of CSV and a chart that never finishes drawing).
MAX_BANDS = 10_000
#: A band width must give at most :data:`MAX_BANDS` bands within this horizon (minutes):
#: the narrowest band width is ``BAND_HORIZON_MINUTES / MAX_BANDS`` (0.018 min, ~1 s).
BAND_HORIZON_MINUTES = 180.0
MIN_BAND_MINUTES = BAND_HORIZON_MINUTES / MAX_BANDS
#: Largest time setting (band width, coverage and gain/loss thresholds), minutes: a week.
MAX_MINUTES = 7 * 24 * 60.0
#: Largest distance threshold, km (half the Earth's circumference).
MAX_KM = 20_000.0
#: Largest rate of ``visits_per_person`` (visits per person per year).
MAX_VISITS_PER_PERSON = 1_000.0
#: Most threads of one search call (``threads=``, ``--threads``): this many, or the
#: machine's core count when that is larger.
MAX_THREADS = 64
#: Calibration: most evaluations of one search (each is one full search of the study).
MAX_EVALUATIONS_LIMIT = 100_000
#: Bars of a band chart: finer band tables are drawn with neighbouring bands merged.
MAX_CHART_BARS = 120


def max_threads() -> int:
    """The thread cap: :data:`MAX_THREADS`, or the number of cores when that is larger."""
    import os

    return max(MAX_THREADS, os.cpu_count() or 1)
