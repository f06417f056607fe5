"""Optional dependencies: the one place that imports a package an extra provides.

The core install runs a study (``hexaccess run`` on CSV, GeoPackage, GeoParquet, Eurostat
or GeoTIFF inputs and ``.osm.pbf`` through the Rust reader). The rest sits behind extras
of the distribution (``pyproject.toml``): the report's maps and charts (``report``), the
HiGHS certificate of the site MIPs (``optimise``), pyosmium for OSM XML (``osm``). A
feature that needs one imports it through :func:`require`, so a missing package gives
one :class:`~hexaccess.errors.MissingDependencyError` naming the feature and the
``pip install`` to run, which the command line prints as one line.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from hexaccess.errors import MissingDependencyError

__all__ = ["EXTRAS", "install_hint", "require"]

#: The import name of every optional package and the extra that installs it (kept equal
#: to ``[project.optional-dependencies]``; ``tests/test_packaging.py`` checks it).
EXTRAS: dict[str, str] = {
    "matplotlib": "report",
    "highspy": "optimise",
    "osmium": "osm",
    "dask": "dask",
}


def install_hint(extra: str) -> str:
    """The command that installs ``extra`` (quoted: the brackets are a glob in shells)."""
    return f'pip install "hexaccess[{extra}]"'


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """``module`` imported, or a :class:`MissingDependencyError` saying that ``purpose``
    needs it and which extra to install. ``module`` may be dotted
    (``matplotlib.pyplot``); the package named in the message is its first part."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.partition(".")[0]
        # An installed but broken package (a missing shared library) fails here too: the
        # original error is kept in the message, so that case is told apart.
        raise MissingDependencyError(
            f"{purpose} needs the optional package {package!r}, which cannot be imported "
            f"({exc}); install it with: {install_hint(extra)} (or {install_hint('all')})"
        ) from exc
