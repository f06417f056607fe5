"""Population on H3 cells: the demand side of every accessibility computation.

A :class:`PopulationGrid` holds people per H3 cell at one resolution, with any number of
integer attribute columns (``total``, ``age_65_plus``, ...) and, when known, the
municipality of each cell. Loaders turn the common population products into one:

* :func:`read_eurostat_grid` - Eurostat Census 2021 grid CSV (``GRD_ID`` + counts);
* :func:`read_square_grid` - square (or any polygon) grids in GeoPackage / GeoParquet /
  GeoJSON (or a GeoDataFrame), or centre points with a ``cell_size``, in any CRS;
* :func:`read_population_raster` - GeoTIFF rasters (WorldPop, GHS-POP);
* :func:`read_h3_table` - tables already keyed by H3 cell;
* :func:`population_from_frame` - a GeoDataFrame of squares or a DataFrame of H3 cells.

One module per job:

========================  =============================================================
``grid``                  the model (:class:`PopulationGrid`, :class:`FilterReport`)
``apportion``             squares, polygons and pixels shared among H3 cells (method and
                          guarantees)
``municipalities``        the square -> municipality table, :data:`ALAND_MUNICIPALITIES`
``eurostat``              Eurostat census grid CSV
``squares``               vector square grids and GeoDataFrames
``raster``                population rasters
``h3_table``              tables keyed by H3 cell
``frames``                in-memory frames
========================  =============================================================

Errors
------
Bad input raises :class:`PopulationInputError` (a ``ValueError``) naming the file, the
row (CSV: 1-based line number with the header as line 1; vector layers: 0-based feature
index and FID; rasters: 0-based pixel row/column) and the fix; an unknown attribute
column raises :class:`~hexaccess.errors.UnknownNameError` (a ``KeyError``). Duplicate
square ids are refused, naming both rows: a file concatenated twice would otherwise
double people. A file that is missing, a directory, empty, cut short or of another
format than its extension says raises :class:`~hexaccess.errors.InputFileError` (checked
by content, see :mod:`hexaccess._files`). A CSV that is not UTF-8 is read as
Windows-1252 with a warning naming the first line that is not UTF-8.

Municipality codes
------------------
Codes are 3-digit strings (:data:`CODE_WIDTH`); a table whose codes lost their leading
zeros (``91``) gets them back with a warning. Every code of an exclusion or inclusion
list must be in the municipality table (the 16 Åland codes of ``aland`` as one group);
a code matching nothing is refused with its near matches. A municipality table that
matches no square of the population is refused.

Limits
------
=============================  ========================================================
counts                         whole numbers 0 .. 10^10 per row (``_checks.MAX_COUNT``;
                               larger is reported as an overflow)
H3 resolution                  0..15 for tables of H3 cells; 0..12 for squares,
                               polygons and rasters (``grid.MAX_APPORTION_RESOLUTION``:
                               finer cells are smaller than the sample lattice)
``samples``                    1..100 per side (``apportion.MAX_SAMPLES``)
=============================  ========================================================
"""

from __future__ import annotations

from hexaccess.errors import PopulationInputError
from hexaccess.h3 import cell_resolution, cell_to_parent  # lived here before hexaccess.h3
from hexaccess.population.apportion import DEFAULT_SAMPLES
from hexaccess.population.eurostat import EUROSTAT_COLUMNS, read_eurostat_grid
from hexaccess.population.frames import population_from_frame
from hexaccess.population.grid import DEFAULT_RESOLUTION, FilterReport, PopulationGrid
from hexaccess.population.h3_table import read_h3_table
from hexaccess.population.municipalities import (
    ALAND_MUNICIPALITIES,
    CODE_WIDTH,
    check_municipality_codes,
    read_municipality_table,
)
from hexaccess.population.raster import read_population_raster
from hexaccess.population.squares import read_square_grid

__all__ = [
    "ALAND_MUNICIPALITIES",
    "CODE_WIDTH",
    "DEFAULT_RESOLUTION",
    "DEFAULT_SAMPLES",
    "EUROSTAT_COLUMNS",
    "FilterReport",
    "PopulationGrid",
    "PopulationInputError",
    "cell_resolution",
    "cell_to_parent",
    "check_municipality_codes",
    "population_from_frame",
    "read_eurostat_grid",
    "read_h3_table",
    "read_municipality_table",
    "read_population_raster",
    "read_square_grid",
]
