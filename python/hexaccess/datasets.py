"""Data shipped inside the package: the open inputs of the 2020 Finland study.

The Finnish Ministry of Finance's study of 2020 (report 5/2020) measured how far
mainland Finland lives from its 50 joint service offices. Its inputs are open, and a
compact derived copy of them (about 1.5 MB) sits in ``hexaccess/data/finland2020/``:
what ``hexaccess run`` uses with no arguments. ``scripts/build_default_data.py``
rebuilds it from the public sources (its docstring gives the download addresses).

>>> from hexaccess.datasets import finland_2020
>>> data = finland_2020()
>>> data.population.name, data.roads.name
('population.csv.gz', 'roads.parquet')

Every file is read by the ordinary readers as it is: ``population.csv.gz`` is a Eurostat
grid (``GRD_ID``, ``T``, ``Y_GE65``) with each square's ``municipality`` beside it,
``roads.parquet`` a GeoParquet road layer (``IGDS_LEVEL``, ``LUOKKA``, EPSG:3067),
``offices.csv`` the study's 50 offices (the 18 regional centres ``fixed``),
``municipalities.csv`` the municipality table, ``study_bands_50.csv`` the study's
published band table. ``Study(**finland_2020().study_inputs())`` is the study itself.
The licences and the required attribution are in ``LICENSES.md`` (and
:data:`ATTRIBUTION`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from hexaccess.errors import InputFileError

__all__ = ["ATTRIBUTION", "FINLAND_2020_FILES", "StudyData", "finland_2020"]

#: The line every result computed from the shipped data carries (``LICENSES.md``).
ATTRIBUTION = (
    "Data: population Eurostat Census 2021 1 km grid (© European Union); roads and "
    "municipal division © National Land Survey of Finland 1:1,000,000 (CC BY 4.0); "
    "municipalities Statistics Finland via rOpenGov/geofi; offices and published bands "
    "from the Ministry of Finance study 5/2020."
)

#: The files of ``hexaccess/data/finland2020/``, by the field that names them.
FINLAND_2020_FILES = {
    "population": "population.csv.gz",
    "roads": "roads.parquet",
    "offices": "offices.csv",
    "municipalities": "municipalities.csv",
    "bands": "study_bands_50.csv",
    "licences": "LICENSES.md",
    "sources": "SOURCES.json",
}

#: Mainland Finland: the study left the Åland Islands out (``inputs.municipality_codes``).
MAINLAND = "aland"


@dataclass(frozen=True)
class StudyData:
    """Paths of one shipped study's files (see the module docstring)."""

    name: str
    folder: Path
    population: Path
    roads: Path
    offices: Path
    municipalities: Path
    bands: Path
    licences: Path
    sources: Path
    exclude_municipalities: str = MAINLAND
    profile: str = "car_fi"
    attribution: str = ATTRIBUTION

    def municipality_table(self) -> Any:
        """``GRD_ID -> municipality`` (a DataFrame, codes as text) from the population
        file, for ``Study(municipality_table=...)``."""
        import pandas as pd

        return pd.read_csv(
            self.population, usecols=["GRD_ID", "municipality"], dtype=str, keep_default_na=False
        )

    def published_bands(self) -> Any:
        """The study's published 10-minute band table (columns of ``bands.csv``)."""
        import pandas as pd

        return pd.read_csv(self.bands)

    def study_inputs(self) -> dict[str, Any]:
        """Keyword arguments of :class:`hexaccess.Study` for the study as it was run:
        mainland Finland, the 50 offices, the packaged car profile."""
        return {
            "population": self.population,
            "roads": self.roads,
            "offices": self.offices,
            "municipality_table": self.municipality_table(),
            "municipalities": self.municipalities,
            "exclude_municipalities": self.exclude_municipalities,
            "profile": self.profile,
        }


def _data_folder(name: str) -> Path:
    """The folder of a shipped data set, checked: every file present."""
    root = resources.files("hexaccess").joinpath("data").joinpath(name)
    folder = Path(str(root))
    missing = [f for f in FINLAND_2020_FILES.values() if not (folder / f).is_file()]
    if missing:
        raise InputFileError(
            f"the data shipped with hexaccess is incomplete: {folder} lacks "
            f"{', '.join(missing)}; reinstall hexaccess (pip install --force-reinstall "
            "hexaccess), or rebuild it from a clone with python scripts/"
            "build_default_data.py --source ../shared/data/finland"
        )
    return folder


def finland_2020() -> StudyData:
    """The 2020 Finland study's inputs shipped with hexaccess (a clear
    :class:`~hexaccess.errors.InputFileError` if the install lacks them)."""
    folder = _data_folder("finland2020")
    paths = {field: folder / file for field, file in FINLAND_2020_FILES.items()}
    return StudyData(name="finland2020", folder=folder, **paths)
