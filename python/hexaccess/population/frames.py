"""Population from data already in memory: a GeoDataFrame of squares or points, or a
DataFrame keyed by H3 cell."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from hexaccess.errors import PopulationInputError
from hexaccess.population.apportion import DEFAULT_SAMPLES
from hexaccess.population.grid import DEFAULT_RESOLUTION, PopulationGrid
from hexaccess.population.h3_table import read_h3_table
from hexaccess.population.squares import _is_geodataframe, read_square_grid

if TYPE_CHECKING:  # geopandas is optional: only for the annotations
    import geopandas as gpd


def population_from_frame(
    frame: pd.DataFrame | gpd.GeoDataFrame,
    columns: Sequence[str] | Mapping[str, str] | None = None,
    *,
    resolution: int | None = None,
    municipality_table: str | os.PathLike[str] | pd.DataFrame | Mapping[str, str] | None = None,
    municipality_column: str | None = None,
    id_column: str | None = None,
    cell_column: str = "h3",
    cell_size: float | None = None,
    samples: int = DEFAULT_SAMPLES,
    crs: Any = None,
) -> PopulationGrid:
    """A :class:`PopulationGrid` from a geopandas GeoDataFrame or a pandas DataFrame.

    * A **GeoDataFrame** of squares (polygons) or square centre points (with
      ``cell_size``) in its CRS (or ``crs=``) is apportioned exactly as
      :func:`read_square_grid` apportions the same features read from a GeoPackage:
      same cells, same people. ``columns`` (required) names the count columns, or maps
      them to output names; ``resolution`` defaults to 8; ``municipality_table`` is
      keyed by ``id_column``.
    * A **DataFrame** with an H3 cell column (``cell_column``, default ``h3``) is read
      by :func:`read_h3_table`: the same grid as that table saved as CSV gives.
      ``columns`` defaults to every numeric column; ``resolution`` to the table's own;
      municipalities come from ``municipality_column``.

    geopandas is optional: it is only needed to build the GeoDataFrame.
    """
    if _is_geodataframe(frame):
        if not columns:
            raise PopulationInputError(
                "GeoDataFrame: say which columns hold people (columns=['total', ...])"
            )
        return read_square_grid(
            frame,
            columns,
            id_column=id_column,
            resolution=DEFAULT_RESOLUTION if resolution is None else resolution,
            samples=samples,
            cell_size=cell_size,
            crs=crs,
            municipality_column=municipality_column,
            municipality_table=municipality_table,
        )
    if not isinstance(frame, pd.DataFrame):
        raise PopulationInputError(
            f"population_from_frame needs a GeoDataFrame or a DataFrame, got "
            f"{type(frame).__name__}; read files with read_square_grid / read_h3_table"
        )
    if cell_column not in frame.columns:
        raise PopulationInputError(
            f"DataFrame: no geometry and no H3 cell column {cell_column!r} (columns: "
            f"{list(frame.columns)}); pass a GeoDataFrame of squares or cell_column="
        )
    _refuse_square_options(
        municipality_table=municipality_table, id_column=id_column, cell_size=cell_size, crs=crs
    )
    return read_h3_table(
        frame,
        cell_column,
        columns,
        resolution=resolution,
        municipality_column=municipality_column,
    )


def _refuse_square_options(**options: Any) -> None:
    """Options that only squares use are refused for an H3 table, not ignored."""
    given = [name for name, value in options.items() if value is not None]
    if given:
        raise PopulationInputError(
            f"DataFrame: {', '.join(given)} apply to squares, not to a table of H3 cells; "
            "give the municipality of each cell in a column (municipality_column=)"
        )
