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
MODE_PROFILES = {"car": "car_fi", "walk": "walk", "bike": "bike"}
#: Graph kind: ``road`` or ``hex``.
GRAPH = "road"
#: Make every shape point of a road line a node, so people join the road that passes
#: them (the Finland study: 0–10 min band 24.4 % with, 16.3 % without).
SPLIT_ROADS = True
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
