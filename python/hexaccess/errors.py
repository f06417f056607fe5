"""Every error hexaccess raises on purpose, under one base.

``HexaccessError`` is the base of all of them, so ``except hexaccess.HexaccessError``
catches every mistake in the inputs, settings or output directory, and nothing else: a
real bug stays a different exception. Every class that reports bad input also keeps
``ValueError`` as a parent (r5py's pattern), so code written as ``except ValueError``
before this module existed still works. Unknown names (a column, an office, a candidate)
raise :class:`UnknownNameError`, which is also a ``KeyError`` for the same reason but
prints its message without the quotes ``KeyError`` adds.

The command line prints one line for any ``HexaccessError`` and exits with code 2.
"""

from __future__ import annotations

__all__ = [
    "AccessibilityInputError",
    "AnalysisInputError",
    "CalibrationError",
    "CorruptOutputError",
    "EngineInputError",
    "FallbackWarning",
    "GeoParquetError",
    "GtfsError",
    "HexaccessError",
    "InfeasibleError",
    "InputError",
    "InputFileError",
    "MissingDependencyError",
    "OfficeInputError",
    "OutputError",
    "PopulationInputError",
    "ProfileError",
    "RoadDataError",
    "ScenarioError",
    "UnknownNameError",
]


class HexaccessError(Exception):
    """Base of every error hexaccess raises on purpose (bad input, settings, outputs)."""


class InputError(HexaccessError, ValueError):
    """Input that cannot be used as given; the message names the file, row or value and
    the fix."""


class UnknownNameError(InputError, KeyError):
    """A name that is not there: a population column, an office, a candidate, a
    parameter. Also a ``KeyError`` (older code caught that)."""

    def __str__(self) -> str:  # KeyError would print repr(message)
        return str(self.args[0]) if self.args else ""


class InputFileError(InputError, FileNotFoundError):
    """An input file that is missing, is a directory, or cannot be read; also a
    ``FileNotFoundError`` (older code caught that)."""


class EngineInputError(InputError):
    """Arrays given to the engine (``Graph``) that break its contract."""


class PopulationInputError(InputError):
    """Population input that cannot be loaded without guessing; the message says why."""


class RoadDataError(InputError):
    """Invalid road data; the message names the file and the offending rows/values."""


class OfficeInputError(InputError):
    """Office or municipality input that cannot be used; the message names the office."""


class ProfileError(InputError):
    """An invalid speed profile; the message names the TOML key and the file."""


class GeoParquetError(InputError):
    """Not a GeoParquet file this reader understands; the message names the file."""


class GtfsError(InputError):
    """A GTFS feed that cannot be read; the message names the feed, the file inside it,
    the line, the id and the fix."""


class AccessibilityInputError(InputError):
    """The inputs cannot be combined (e.g. an office too far from every road)."""


class AnalysisInputError(InputError):
    """Arguments that cannot give a meaningful figure (band width <= 0, unknown column...)."""


class CalibrationError(InputError):
    """Bad calibration input: a reference table, a parameter key or bound."""


class ScenarioError(InputError):
    """An invalid scenario file or study setting; the message names the file and key."""


class InfeasibleError(InputError):
    """The constraints cannot be met (e.g. more fixed sites than ``p``)."""


class OutputError(HexaccessError, ValueError):
    """An output directory that cannot be written safely: a file where a directory is
    expected, no permission, a directory holding other files (give ``--overwrite``), or
    another run writing to it."""


class CorruptOutputError(OutputError):
    """An output directory that does not match its ``manifest.json``: a file missing,
    extra, truncated or changed, or no manifest at all (an interrupted or foreign
    directory). The message names the first file that does not match."""


class FallbackWarning(RuntimeWarning):
    """The Rust extension could not be imported; the slower Numba backend is used."""


class MissingDependencyError(HexaccessError, ImportError):
    """An optional package that a feature needs is not installed (the report's plotting,
    the HiGHS solver, pyosmium ...); the message names the feature and the ``pip install``
    of the extra that brings it. Not bad input, so not a ``ValueError``; an
    ``ImportError`` so that code which guarded the import before keeps working."""
