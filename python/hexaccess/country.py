"""Moved to :mod:`hexaccess.synthetic.country` (kept for one release).

``from hexaccess import country`` and ``country.generate_country(...)`` keep working;
new code imports from ``hexaccess.synthetic`` (or ``hexaccess.synthetic.country``).
"""

from __future__ import annotations

from hexaccess.synthetic.country import *  # noqa: F403
from hexaccess.synthetic.country import (  # noqa: F401 - names used by older code
    DEFAULT_PARAMS,
    LOCAL,
    MAIN,
    MOTORWAY,
    PARAMS_FILE,
    REGIONAL,
    Scenario,
    SyntheticCountry,
    SyntheticScenario,
    _whole_number,
    default_scenario,
    generate_country,
    load_params,
)
from hexaccess.synthetic.country import __all__ as __all__
