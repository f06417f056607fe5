"""GTFS feeds read into a :class:`~hexaccess.transit.timetable.Timetable` for one date.

:func:`read_gtfs` takes one or several feeds (zip files or folders) and a date:

- **Services** active on the date: ``calendar.txt`` (weekday flag and start/end dates)
  then ``calendar_dates.txt`` (``exception_type`` 1 adds the service, 2 removes it); a
  feed may have either file or both.
- **Times** ``H:MM:SS`` with hours past 23 (trips running after midnight). Trips of the
  *previous* service day whose times run past 24:00 are included too, shifted by -24 h
  (their trip ids get ``@prev``); only their connections leaving at or after midnight
  of the date are kept, renumbered from seq 0. Empty times of non-timepoint stops are
  interpolated linearly by stop sequence between the timepoints around them (the
  first and last stop of a trip must have times, as GTFS requires); a missing arrival
  or departure alone takes the other one. "By stop sequence" means by position in
  the trip (gaps in the stop_sequence numbers and shape_dist_traveled are not used).
- **frequencies.txt**: each template trip is replaced by trips starting every
  ``headway_secs`` from ``start_time`` while before ``end_time`` (its stop times
  shifted). ``exact_times`` 0 (frequency-based) is expanded the same way as 1
  (schedule-based): a deterministic schedule from ``start_time``. The real vehicles of
  an ``exact_times`` 0 entry may run at any offset within the headway, so times through
  them can be off by up to one headway (R5 instead averages over random offsets).
- **Stops**: platforms (``location_type`` 0 or empty) plus any stop that stop_times
  name (a station used as a stop); entrances, nodes and boarding areas are left out.
  With several feeds every stop, trip and route id is prefixed ``"<feed>:"`` (the
  feed's file or folder name, made unique).
- **Route types** are kept per trip (``trip_route_type``).
- **Transfers**: ``transfers.txt`` between stops (``from_stop_id = to_stop_id``: the
  stop's change time; type 0 the profile's ``min_transfer_s``, 1 timed = 0 s, 2 the
  ``min_transfer_time``, 3 not possible = :data:`NO_TRANSFER_S`); between different
  stops type 0/1 add a walking footpath, 2 a footpath of ``min_transfer_time`` minus
  the boarding stop's change time (so the whole change takes the feed's time, never
  less than that change time), 3 removes it. A station id stands for all its stops.
  Rows naming trips or routes (trip-to-trip transfers) are not expressible per stop:
  they are skipped and counted in ``meta``. Walking footpaths join every pair of stops
  (across feeds too) within the profile's ``max_transfer_m`` straight line, found with
  a KD-tree in the local UTM zone, timed as distance x detour factor / walking speed.

Broken feeds raise an error deriving from :class:`~hexaccess.errors.InputError` naming
the feed, the file inside it, the line, the id and the fix: a missing required file or
column, bad times or dates, stop_times naming stops that ``stops.txt`` lacks, trips
naming missing routes, stop_times naming missing trips. ``on_error="drop"`` drops the
broken rows instead (the stop time is skipped; the trip with a missing route is
dropped) with one warning that counts them: the default is the error, because silently
losing stops changes every travel time near them, and the user should decide.

Usable but odd feeds warn and carry on: a byte-order mark (read as UTF-8-sig), trips
whose times go backwards (dropped, named with the file line, counted in
``meta['trips_dropped_backwards']``; a reader that refused the feed for one bad trip
would make the rest unusable), and :func:`far_stops` for stops far from any populated
cell (the study calls it with its cells).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess._files import duplicate_columns
from hexaccess.errors import GtfsError, InputError, InputFileError
from hexaccess.transit.profile import TransitProfile, load_transit_profile
from hexaccess.transit.timetable import NO_TRANSFER_S, Timetable, build_timetable

__all__ = ["GtfsError", "far_stops", "read_gtfs", "walking_footpaths"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "stops.txt": ("stop_id",),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "calendar.txt": (
        "service_id",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "start_date",
        "end_date",
    ),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
    "frequencies.txt": ("trip_id", "start_time", "end_time", "headway_secs"),
    "transfers.txt": ("from_stop_id", "to_stop_id", "transfer_type"),
}
_OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "stops.txt": ("stop_lat", "stop_lon", "location_type", "parent_station"),
    "frequencies.txt": ("exact_times",),
    "transfers.txt": (
        "min_transfer_time",
        "from_trip_id",
        "to_trip_id",
        "from_route_id",
        "to_route_id",
    ),
}
_ON_ERROR = ("raise", "drop")
_TIME = re.compile(r"^(?P<h>\d+):(?P<m>[0-5]\d):(?P<s>[0-5]\d)$")  # blanks are stripped on reading
_SHOW = 5  # examples named in a message


# ---------------------------------------------------------------------- feed access
class _Feed:
    """One feed (zip or folder): its files as string tables, BOMs noted."""

    def __init__(self, path: Path, tag: str) -> None:
        self.path, self.tag = path, tag
        self.zip: zipfile.ZipFile | None = None
        if path.is_dir():
            self.names = {p.name: p for p in path.iterdir() if p.is_file()}
        else:
            try:
                self.zip = zipfile.ZipFile(path)
            except zipfile.BadZipFile as e:
                raise InputFileError(
                    f"GTFS feed {path} is not a readable zip file ({e}); "
                    "give a GTFS .zip or a folder of .txt files"
                ) from e
            # GTFS files sit at the zip's root; some exporters add one folder level.
            self.names = {Path(n).name: n for n in self.zip.namelist() if not n.endswith("/")}
        self.boms: list[str] = []

    def where(self, name: str) -> str:
        return f"GTFS feed {self.path}: {name}"

    def has(self, name: str) -> bool:
        return name in self.names

    def _bytes(self, name: str) -> bytes:
        """The file's bytes without a BOM (noted), checked to be UTF-8."""
        raw = self.zip.read(self.names[name]) if self.zip else Path(self.names[name]).read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            self.boms.append(name)
            raw = raw[3:]
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            raise GtfsError(
                f"{self.where(name)} line {line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); "
                "GTFS files must be UTF-8: re-export or convert it (e.g. iconv -f latin1 -t "
                "utf-8)"
            ) from None
        return raw

    def _header(self, name: str, raw: bytes) -> list[str]:
        """The header row; a repeated column name is an error (as in ``_files.read_csv``:
        the wrong column could be read)."""
        first = raw.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
        header = next(csv.reader([first]), [])
        repeated = duplicate_columns(header)
        if repeated:
            raise GtfsError(
                f"{self.where(name)}: the header repeats the column name(s) "
                f"{sorted(repeated)}; give every column a distinct name"
            )
        return header

    def table(self, name: str) -> pd.DataFrame:
        """The file's columns the reader uses, as strings with blanks stripped (Arrow
        strings: pyarrow's CSV reader is ~10x faster than pandas' on a national
        stop_times.txt), required columns checked, and ``_line``: the line in the file
        (header = line 1; a quoted value spanning lines shifts it)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv

        if not self.has(name):
            raise InputFileError(
                f"GTFS feed {self.path} has no {name}, which the reader "
                f"needs; the feed holds {sorted(self.names)}"
            )
        raw = self._bytes(name)
        header = self._header(name, raw)
        wanted = set(_REQUIRED_COLUMNS.get(name, ())) | set(_OPTIONAL_COLUMNS.get(name, ()))
        use = [c for c in header if c.strip() in wanted]
        missing = [c for c in _REQUIRED_COLUMNS.get(name, ()) if c not in {u.strip() for u in use}]
        if missing:
            raise GtfsError(
                f"{self.where(name)}: required column(s) {missing} missing; the header must "
                f"name them (GTFS reference); it has {header}"
            )
        opts = pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header},
            include_columns=use,
            strings_can_be_null=False,
        )
        try:
            tab = pacsv.read_csv(io.BytesIO(raw), convert_options=opts) if use else None
        except pa.ArrowInvalid as e:
            raise GtfsError(
                f"{self.where(name)}: not a readable CSV table ({e}); fix the file"
            ) from e
        cols = {c.strip(): pc.utf8_trim_whitespace(tab[c]) for c in use} if tab else {}
        df = pd.DataFrame(
            {c: pd.arrays.ArrowStringArray(v.combine_chunks()) for c, v in cols.items()}
        )
        df["_line"] = np.arange(2, len(df) + 2)
        return df


def _feeds(feeds: Any) -> list[_Feed]:
    paths = [feeds] if isinstance(feeds, (str, os.PathLike)) else list(feeds)
    if not paths:
        raise InputError("read_gtfs needs at least one feed (a GTFS .zip or folder)")
    out: list[_Feed] = []
    tags: set[str] = set()
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputFileError(f"GTFS feed not found: {p}; check the path")
        tag = p.name.removesuffix(".zip") or "feed"
        base, k = tag, 2
        while tag in tags:  # two feeds with the same file name in other folders
            tag, k = f"{base}_{k}", k + 1
        tags.add(tag)
        out.append(_Feed(p, tag))
    return out


def _examples(df: pd.DataFrame, col: str, id_col: str | None = None) -> str:
    """A few offending rows as ``line N (trip_id 'x', stop_id 'y')`` and how many more."""
    rows = df.head(_SHOW)
    cols = [c for c in (id_col, col) if c and c in df.columns]
    shown = ", ".join(
        f"line {ln} (" + ", ".join(f"{c} {rows[c].iloc[k]!r}" for c in cols) + ")"
        for k, ln in enumerate(rows["_line"])
    )
    return shown + (f" and {len(df) - _SHOW:,} more" if len(df) > _SHOW else "")


# ---------------------------------------------------------------------- values
def _isin(s: pd.Series, values: Any) -> npt.NDArray[np.bool_]:
    """``s.isin(values)`` for string columns through Arrow (pandas loops in Python)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.is_in(pa.array(s, type=pa.string()), value_set=pa.array(values, type=pa.string()))
    return found.to_numpy(zero_copy_only=False).astype(bool)


def _index_in(s: pd.Series, values: Any) -> I64:
    """Position of each of ``s`` in ``values`` (-1 where absent), through Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pos = pc.index_in(pa.array(s, type=pa.string()), value_set=pa.array(values, type=pa.string()))
    return pc.fill_null(pos, -1).to_numpy().astype(np.int64)


def _parse_times(s: pd.Series, where: str, lines: pd.Series, ids: pd.Series) -> F64:
    """Seconds of ``H:MM:SS`` strings (hours may pass 23); NaN for empty ones."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s, type=pa.string())
    parts = pc.extract_regex(arr, _TIME.pattern)
    ok = parts.is_valid().to_numpy(zero_copy_only=False)
    bad = ~ok & (s != "").to_numpy(dtype=bool)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GtfsError(
            f"{where} line {int(lines.iloc[k])} (trip {ids.iloc[k]!r}): time "
            f"{s.iloc[k]!r} is not HH:MM:SS ({int(bad.sum()):,} such times); "
            "write times as e.g. 08:05:00 or 25:10:00"
        )
    out = np.zeros(len(s), dtype=np.float64)
    for k, scale in enumerate((3600, 60, 1)):
        field = pc.if_else(parts.is_valid(), pc.struct_field(parts, [k]), "0")
        out += scale * pc.cast(field, pa.int64()).to_numpy().astype(np.float64)
    out[~ok] = np.nan
    return out


def _parse_int(df: pd.DataFrame, col: str, where: str, default: int | None = None) -> I64:
    """Whole numbers of a column (empty: ``default``, else an error naming the line)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    s = df[col] if col in df.columns else pd.Series([""] * len(df), index=df.index, dtype=object)
    if default is not None:
        s = s.where(s != "", str(default))
    try:  # the fast path: Arrow's cast of clean integer strings
        return pc.cast(pa.array(s, type=pa.string()), pa.int64()).to_numpy().astype(np.int64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    v = pd.to_numeric(s.astype(object), errors="coerce")  # "3.0" is read as 3
    bad = v.isna() | (v != v.round())
    if bad.any():
        k = int(np.flatnonzero(bad.to_numpy())[0])
        raise GtfsError(
            f"{where} line {int(df['_line'].iloc[k])}: {col} {s.iloc[k]!r} is not "
            "a whole number; fix the value (GTFS reference)"
        )
    return v.to_numpy(dtype=np.int64)


def _parse_dates(df: pd.DataFrame, col: str, where: str) -> npt.NDArray[Any]:
    d = pd.to_datetime(df[col], format="%Y%m%d", errors="coerce")
    if d.isna().any():
        k = int(np.flatnonzero(d.isna().to_numpy())[0])
        raise GtfsError(
            f"{where} line {int(df['_line'].iloc[k])}: {col} "
            f"{df[col].iloc[k]!r} is not a date YYYYMMDD; fix the value"
        )
    return d.dt.date.to_numpy()


# ---------------------------------------------------------------------- services
def _active_services(feed: _Feed, day: dt.date) -> set[str]:
    """Service ids running on ``day``: calendar.txt, then calendar_dates.txt exceptions."""
    if not (feed.has("calendar.txt") or feed.has("calendar_dates.txt")):
        raise InputFileError(
            f"GTFS feed {feed.path} has neither calendar.txt nor "
            "calendar_dates.txt: no service can be dated; add one"
        )
    active: set[str] = set()
    if feed.has("calendar.txt"):
        cal = feed.table("calendar.txt")
        where = feed.where("calendar.txt")
        start = _parse_dates(cal, "start_date", where)
        end = _parse_dates(cal, "end_date", where)
        flag = _parse_int(cal, day.strftime("%A").lower(), where)
        on = (start <= day) & (day <= end) & (flag == 1)
        active.update(cal["service_id"].to_numpy()[on])
    if feed.has("calendar_dates.txt"):
        cd = feed.table("calendar_dates.txt")
        where = feed.where("calendar_dates.txt")
        today = cd[_parse_dates(cd, "date", where) == day]
        kind = _parse_int(today, "exception_type", where)
        if np.any((kind != 1) & (kind != 2)):
            k = int(np.flatnonzero((kind != 1) & (kind != 2))[0])
            raise GtfsError(
                f"{where} line {int(today['_line'].iloc[k])}: exception_type "
                f"{kind[k]} must be 1 (added) or 2 (removed)"
            )
        active.update(today["service_id"].to_numpy()[kind == 1])
        active.difference_update(today["service_id"].to_numpy()[kind == 2])
    return active


def _service_span(feed: _Feed) -> str:
    """The first and last dates the feed's calendars name (for messages)."""
    dates: list[Any] = []
    for name, cols in (
        ("calendar.txt", ("start_date", "end_date")),
        ("calendar_dates.txt", ("date",)),
    ):
        if feed.has(name):
            table = feed.table(name)
            for col in cols:
                dates.extend(_parse_dates(table, col, feed.where(name)))
    return f"{min(dates)} to {max(dates)}" if dates else "no dates"


def _check_service_day(feeds: list[_Feed], trips: list[int], day: dt.date) -> None:
    """A feed with no trip on ``day`` warns; no trip in any feed is an error: every time
    would silently be walking only."""
    idle = [f for f, n in zip(feeds, trips, strict=True) if n == 0]
    if not idle:
        return
    spans = "; ".join(f"{f.path}: services {_service_span(f)}" for f in idle)
    text = f"no trip runs on {day} ({day:%A})"
    if len(idle) == len(feeds):
        raise GtfsError(
            f"GTFS: {text} in any feed ({spans}); give a date inside the feeds' service "
            "period (--departure)"
        )
    warnings.warn(f"GTFS: {text} in {len(idle)} of {len(feeds)} feeds ({spans})", stacklevel=3)


# ---------------------------------------------------------------------- references
@dataclass(frozen=True)
class _Broken:
    """Rows of one file naming ids that do not exist, and the fix."""

    file: str
    what: str
    rows: pd.DataFrame
    col: str
    id_col: str
    fix: str

    def text(self, feed: _Feed) -> str:
        n = len(self.rows)
        return (
            f"{feed.where(self.file)}: {n:,} {self.what}: "
            f"{_examples(self.rows, self.col, self.id_col)}; {self.fix}"
        )


def _report_broken(feed: _Feed, found: list[_Broken], on_error: str) -> None:
    """Every reference problem of a feed in one error (default), or one warning each
    with ``on_error='drop'``: the user sees the whole list, not one problem per run."""
    found = [b for b in found if not b.rows.empty]
    if not found:
        return
    if on_error == "raise":
        raise GtfsError(
            "; ".join(b.text(feed) for b in found)
            + ". Fix the feed, or pass on_error='drop' to drop these rows (a stop time "
            "naming a missing stop is skipped, a trip naming a missing route is dropped)"
        )
    for b in found:
        warnings.warn(f"{b.text(feed)}; dropped (on_error='drop')", stacklevel=5)


@dataclass
class _FeedTables:
    stops: pd.DataFrame
    trips: pd.DataFrame  # active trips (day 0 and day -1) with route_type
    stop_times: pd.DataFrame
    counts: dict[str, int]


def _stops(feed: _Feed) -> pd.DataFrame:
    stops = feed.table("stops.txt")
    dup = stops[stops["stop_id"].duplicated()]
    if not dup.empty:
        raise GtfsError(
            f"{feed.where('stops.txt')}: stop_id repeated: {_examples(dup, 'stop_id')}"
            "; every stop needs its own id"
        )
    for c in ("location_type", "parent_station", "stop_lat", "stop_lon"):
        if c not in stops.columns:
            stops[c] = ""
    return stops


def _routes_of_trips(feed: _Feed, trips: pd.DataFrame) -> pd.DataFrame:
    """Trips with their route's ``route_type`` (NaN where the route is missing)."""
    routes = feed.table("routes.txt")
    rtype = pd.Series(
        _parse_int(routes, "route_type", feed.where("routes.txt")),
        index=routes["route_id"].to_numpy(),
    )
    rtype = rtype[~rtype.index.duplicated()]
    trips = trips.copy()
    trips["route_type"] = rtype.reindex(trips["route_id"].to_numpy()).to_numpy()
    return trips


def _feed_tables(feed: _Feed, day: dt.date, on_error: str) -> _FeedTables:
    """Stops, the trips active on ``day`` (``day_offset`` 0) or on the day before (-1;
    only their times past 24:00 are used later), and their stop times; references
    checked over the whole feed (a broken feed is broken on every date)."""
    stops = _stops(feed)
    all_trips = feed.table("trips.txt")
    dup = all_trips[all_trips["trip_id"].duplicated()]
    if not dup.empty:
        raise GtfsError(
            f"{feed.where('trips.txt')}: trip_id repeated: "
            f"{_examples(dup, 'trip_id')}; every trip needs its own id"
        )
    trips = _routes_of_trips(feed, all_trips)
    st = feed.table("stop_times.txt")
    known_route = trips["route_type"].notna()
    known_stop = _isin(st["stop_id"], stops["stop_id"])
    known_trip = _isin(st["trip_id"], all_trips["trip_id"])
    fix_stop = "add the stops to stops.txt or remove those stop times"
    _report_broken(feed, [
        _Broken("trips.txt", "trip(s) name a route_id missing from routes.txt",
                trips[~known_route], "route_id", "trip_id", "add the routes to routes.txt"),
        _Broken("stop_times.txt", "stop time(s) name a stop_id missing from stops.txt",
                st[~known_stop], "stop_id", "trip_id", fix_stop),
        _Broken("stop_times.txt", "stop time(s) name a trip_id missing from trips.txt",
                st[~known_trip], "trip_id", "", "add the trips to trips.txt"),
    ], on_error)  # fmt: skip
    counts = {
        "stop_times_missing_stop": int((~known_stop).sum()),
        "stop_times_missing_trip": int((~known_trip).sum()),
        "trips_missing_route": int((~known_route).sum()),
    }
    trips = trips[known_route].astype({"route_type": np.int64})
    parts = []
    for offset in (0, -1):
        services = _active_services(feed, day + dt.timedelta(days=offset))
        t = trips[_isin(trips["service_id"], list(services))].copy()
        t["day_offset"] = offset
        parts.append(t)
    active = pd.concat(parts, ignore_index=True)
    st = st[known_stop & known_trip & _isin(st["trip_id"], active["trip_id"])]
    return _FeedTables(stops, active, st, counts)


# ---------------------------------------------------------------------- stop times
@dataclass
class _Templates:
    """Stop times of each distinct active trip (a "template"), sorted by template then
    stop sequence; times in seconds (float until checked)."""

    trip_id: npt.NDArray[np.object_]  # per template
    row_tpl: I64  # per stop time row
    row_stop: I64  # position in the feed's stops.txt
    arr: F64
    dep: F64
    line: I64
    interpolated: int


def _templates(st: pd.DataFrame, stop_ids: pd.Series, where: str) -> _Templates:
    seq = _parse_int(st, "stop_sequence", where)
    codes, uniq = pd.factorize(st["trip_id"], sort=False)
    order = np.lexsort((seq, codes))  # by trip (first appearance), then stop_sequence
    st = st.iloc[order]
    codes, seq = codes[order], seq[order]
    dup = np.r_[False, (codes[1:] == codes[:-1]) & (seq[1:] == seq[:-1])]
    if dup.any():
        raise GtfsError(
            f"{where}: stop_sequence repeated within a trip: "
            f"{_examples(st[dup], 'stop_sequence', 'trip_id')}; each stop time of a trip "
            "needs its own stop_sequence"
        )
    ids = st["trip_id"]
    arr = _parse_times(st["arrival_time"], where, st["_line"], ids)
    dep = _parse_times(st["departure_time"], where, st["_line"], ids)
    tpl = _Templates(
        np.asarray(uniq, dtype=object),
        codes.astype(np.int64),
        _index_in(st["stop_id"], stop_ids),
        arr,
        dep,
        st["_line"].to_numpy(dtype=np.int64),
        0,
    )
    _interpolate(tpl, where)
    return tpl


def _interpolate(tpl: _Templates, where: str) -> None:
    """Fill empty times in place: one of arrival/departure from the other, then rows
    with neither linearly by stop sequence between the timepoints around them."""
    arr, dep = tpl.arr, tpl.dep
    a_nan, d_nan = np.isnan(arr), np.isnan(dep)
    arr[a_nan & ~d_nan] = dep[a_nan & ~d_nan]
    dep[d_nan & ~a_nan] = arr[d_nan & ~a_nan]
    empty = np.isnan(arr)
    if not empty.any():
        return
    n = arr.size
    first = np.r_[True, tpl.row_tpl[1:] != tpl.row_tpl[:-1]]
    last = np.r_[tpl.row_tpl[1:] != tpl.row_tpl[:-1], True]
    ends = empty & (first | last)
    if ends.any():
        k = int(np.flatnonzero(ends)[0])
        raise GtfsError(
            f"{where} line {tpl.line[k]} (trip {tpl.trip_id[tpl.row_tpl[k]]!r}): "
            "the first and last stop of a trip need arrival and departure times "
            "(GTFS requires them); add the times"
        )
    idx = np.arange(n)
    prev = np.maximum.accumulate(np.where(~empty, idx, 0))  # last timepoint at or before
    nxt = np.minimum.accumulate(np.where(~empty, idx, n)[::-1])[::-1]  # next at or after
    i = np.flatnonzero(empty)
    frac = (i - prev[i]) / (nxt[i] - prev[i])
    t = np.round(dep[prev[i]] + frac * (arr[nxt[i]] - dep[prev[i]]))
    arr[i] = t
    dep[i] = t
    tpl.interpolated = int(i.size)


def _drop_backwards(tpl: _Templates, where: str) -> int:
    """Drop (in place) templates whose times go backwards, with one warning naming
    them; the number dropped."""
    same = tpl.row_tpl[1:] == tpl.row_tpl[:-1]
    back = np.zeros(tpl.arr.size, dtype=bool)
    back |= tpl.dep < tpl.arr
    back[1:] |= same & (tpl.arr[1:] < tpl.dep[:-1])
    if not back.any():
        return 0
    bad_tpl = np.unique(tpl.row_tpl[back])
    rows = np.flatnonzero(back)
    shown = ", ".join(
        f"trip {tpl.trip_id[tpl.row_tpl[r]]!r} at line {tpl.line[r]}" for r in rows[:_SHOW]
    )
    warnings.warn(
        f"{where}: {bad_tpl.size:,} trip(s) have times going backwards ({shown}"
        f"{' ...' if rows.size > _SHOW else ''}); those trips are dropped",
        stacklevel=4,
    )
    keep = ~np.isin(tpl.row_tpl, bad_tpl)
    for name in ("row_tpl", "row_stop", "arr", "dep", "line"):
        setattr(tpl, name, getattr(tpl, name)[keep])
    return int(bad_tpl.size)


# ---------------------------------------------------------------------- trip instances
@dataclass
class _Instances:
    """Trips run on the date: a template, a time shift (s) and a name."""

    tpl: I64
    shift: I64
    trip_id: list[str]
    day_offset: I64


def _fmt_hms(s: int) -> str:
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _frequency_starts(feed: _Feed, tpl_ids: pd.Index) -> tuple[dict[str, list[int]], int]:
    """Start times of the trips each frequency template runs (``exact_times`` 0 and 1
    alike, see the module docstring) and the number of frequency rows used."""
    if not feed.has("frequencies.txt"):
        return {}, 0
    fr = feed.table("frequencies.txt")
    fr = fr[fr["trip_id"].isin(tpl_ids)]
    where = feed.where("frequencies.txt")
    start = _parse_times(fr["start_time"], where, fr["_line"], fr["trip_id"])
    end = _parse_times(fr["end_time"], where, fr["_line"], fr["trip_id"])
    head = _parse_int(fr, "headway_secs", where)
    exact = _parse_int(fr, "exact_times", where, default=0)
    bad = np.isnan(start) | np.isnan(end) | (head <= 0) | ~np.isin(exact, (0, 1))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GtfsError(
            f"{where} line {int(fr['_line'].iloc[k])}: needs start_time, "
            "end_time, headway_secs > 0 and exact_times 0 or 1; fix the row"
        )
    starts: dict[str, list[int]] = {}
    for trip, s0, s1, h in zip(fr["trip_id"], start, end, head, strict=False):
        starts.setdefault(trip, []).extend(range(int(s0), int(s1), int(h)))
    return starts, len(fr)


def _instances(tpl: _Templates, active: pd.DataFrame, starts: dict[str, list[int]]) -> _Instances:
    """One instance per active (trip, day) pair; frequency templates give one per start."""
    pos = {t: k for k, t in enumerate(tpl.trip_id)}
    first_row = np.r_[0, np.flatnonzero(np.diff(tpl.row_tpl)) + 1] if tpl.row_tpl.size else []
    first_dep = {int(tpl.row_tpl[r]): int(tpl.dep[r]) for r in first_row}
    out_t: list[int] = []
    out_s: list[int] = []
    out_id: list[str] = []
    out_d: list[int] = []
    for trip, offset in zip(active["trip_id"], active["day_offset"], strict=False):
        k = pos.get(trip)
        if k is None or k not in first_dep:  # no stop times (or all dropped)
            continue
        day = 86400 * int(offset)
        suffix = "@prev" if offset else ""
        if trip in starts:
            for s in starts[trip]:
                out_t.append(k)
                out_s.append(s - first_dep[k] + day)
                out_id.append(f"{trip}@{_fmt_hms(s)}{suffix}")
                out_d.append(int(offset))
        else:
            out_t.append(k)
            out_s.append(day)
            out_id.append(f"{trip}{suffix}")
            out_d.append(int(offset))
    return _Instances(
        np.asarray(out_t, dtype=np.int64),
        np.asarray(out_s, dtype=np.int64),
        out_id,
        np.asarray(out_d, dtype=np.int64),
    )


def _expand(tpl: _Templates, inst: _Instances) -> dict[str, Any]:
    """Stop-time rows of every instance (sorted by instance, then sequence); rows of
    previous-day trips leaving before midnight of the date are dropped."""
    n_tpl = tpl.trip_id.size
    counts = np.bincount(tpl.row_tpl, minlength=n_tpl)
    start = np.r_[0, np.cumsum(counts)[:-1]]
    n_rows = counts[inst.tpl]
    inst_of_row = np.repeat(np.arange(inst.tpl.size), n_rows)
    offset_in = np.arange(inst_of_row.size) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    rows = start[inst.tpl][inst_of_row] + offset_in
    shift = inst.shift[inst_of_row]
    arr = tpl.arr[rows].astype(np.int64) + shift
    dep = tpl.dep[rows].astype(np.int64) + shift
    # Times never decrease along a trip, so the rows leaving at or after midnight are
    # exactly the hops of a previous-day trip that happen on the date (and their ends).
    keep = dep >= 0
    return {
        "inst": inst_of_row[keep],
        "stop": tpl.row_stop[rows][keep],
        "arr": arr[keep],
        "dep": dep[keep],
    }


# ---------------------------------------------------------------------- stops, transfers
def _kept_stops(stops: pd.DataFrame, used: I64, where: str) -> pd.DataFrame:
    """Platforms (location_type 0 or empty) and any stop that stop times use (``used``:
    positions in stops.txt), with coordinates checked; ``_pos``: the position."""
    keep = _isin(stops["location_type"], ["", "0"])
    keep[used] = True
    out = stops[keep].copy()
    out["_pos"] = np.flatnonzero(keep)
    lat = pd.to_numeric(out["stop_lat"], errors="coerce")
    lon = pd.to_numeric(out["stop_lon"], errors="coerce")
    bad = lat.isna() | lon.isna() | (lat.abs() > 90) | (lon.abs() > 180)
    if bad.any():
        raise GtfsError(
            f"{where}: stops without valid stop_lat/stop_lon: "
            f"{_examples(out[bad], 'stop_id')}; give WGS84 degrees"
        )
    out["lat"], out["lon"] = lat.to_numpy(), lon.to_numpy()
    return out


def _transfer_rows(
    feed: _Feed, stops: pd.DataFrame, index: dict[str, int], counts: dict[str, int]
) -> pd.DataFrame:
    """transfers.txt rows between stops as global stop indices (a station id stands for
    each of its stops); trip/route-specific rows are skipped and counted."""
    empty = pd.DataFrame({"a": [], "b": [], "type": [], "min_s": []})
    if not feed.has("transfers.txt"):
        return empty
    tr = feed.table("transfers.txt")
    where = feed.where("transfers.txt")
    specific = np.zeros(len(tr), dtype=bool)
    for c in ("from_trip_id", "to_trip_id", "from_route_id", "to_route_id"):
        if c in tr.columns:
            specific |= (tr[c] != "").to_numpy()
    counts["transfers_trip_specific_skipped"] += int(specific.sum())
    tr = tr[~specific]
    kind = _parse_int(tr, "transfer_type", where, default=0)
    mins = _parse_int(tr, "min_transfer_time", where, default=0)
    tr = tr.assign(type=kind, min_s=mins)
    children: dict[str, list[str]] = {}
    for sid, parent in zip(stops["stop_id"], stops["parent_station"], strict=False):
        if parent:
            children.setdefault(parent, []).append(sid)

    def members(sid: str) -> list[int]:
        return [index[s] for s in children.get(sid, [sid]) if s in index] or (
            [index[sid]] if sid in index else []
        )

    rows = [
        (a, b, t, m)
        for f, to, t, m in zip(
            tr["from_stop_id"], tr["to_stop_id"], tr["type"], tr["min_s"], strict=False
        )
        for a in members(f)
        for b in members(to)
    ]
    counts["transfers_rows"] += len(rows)
    return pd.DataFrame(rows, columns=["a", "b", "type", "min_s"]) if rows else empty


def _local_xy(lon: F64, lat: F64) -> tuple[F64, F64]:
    """Metres in the local UTM zone (straight-line distances for the KD-tree)."""
    from pyproj import Transformer

    from hexaccess.network._crs import _local_utm

    crs = _local_utm(lon, lat)
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def walking_footpaths(
    lon: npt.ArrayLike, lat: npt.ArrayLike, profile: TransitProfile | str = "transit"
) -> tuple[I64, I64, npt.NDArray[np.int32]]:
    """``(from, to, seconds)``: both directions of every pair of distinct stops within
    the profile's ``max_transfer_m`` straight line, timed as distance x detour factor /
    walking speed (rounded up to whole seconds)."""
    from scipy.spatial import cKDTree

    prof = load_transit_profile(profile)
    lon_a, lat_a = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if lon_a.size < 2 or prof.max_transfer_m <= 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0, dtype=np.int32)
    x, y = _local_xy(lon_a, lat_a)
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(prof.max_transfer_m, output_type="ndarray")
    a = np.r_[pairs[:, 0], pairs[:, 1]].astype(np.int64)
    b = np.r_[pairs[:, 1], pairs[:, 0]].astype(np.int64)
    d = np.hypot(x[a] - x[b], y[a] - y[b])
    return a, b, np.ceil(prof.walk_seconds(d)).astype(np.int32)


def _footpaths(
    lon: F64,
    lat: F64,
    transfers: pd.DataFrame,
    prof: TransitProfile,
    stop_transfer: npt.NDArray[np.int32],
) -> dict[str, Any]:
    """Walking footpaths with transfers.txt applied (see the module docstring)."""
    a, b, s = walking_footpaths(lon, lat, prof)
    foot = pd.DataFrame({"a": a, "b": b, "s": s.astype(np.int64)})
    between = transfers[transfers["a"] != transfers["b"]]
    if not between.empty:
        x, y = _local_xy(lon, lat)
        ia, ib = between["a"].to_numpy(np.int64), between["b"].to_numpy(np.int64)
        walk = np.ceil(prof.walk_seconds(np.hypot(x[ia] - x[ib], y[ia] - y[ib])))
        kind = between["type"].to_numpy()
        feed_s = np.maximum(between["min_s"].to_numpy() - stop_transfer[ib], 0)
        given = pd.DataFrame(
            {"a": ia, "b": ib, "s": np.where(kind == 2, feed_s, walk), "type": kind}
        )
        given = given.drop_duplicates(["a", "b"], keep="last")
        foot = foot.merge(given[["a", "b"]], on=["a", "b"], how="left", indicator=True)
        foot = foot[foot["_merge"] == "left_only"].drop(columns="_merge")
        foot = pd.concat([foot, given[given["type"] != 3][["a", "b", "s"]]])
    return {"from": foot["a"].to_numpy(), "to": foot["b"].to_numpy(), "s": foot["s"].to_numpy()}


def _stop_transfer_s(
    n: int, transfers: pd.DataFrame, prof: TransitProfile
) -> npt.NDArray[np.int32]:
    """Each stop's change time: the profile's ``min_transfer_s`` unless transfers.txt
    gives the stop to itself (type 1 timed: 0, 2: its time, 3: not possible)."""
    out = np.full(n, prof.min_transfer_s, dtype=np.int64)
    same = transfers[transfers["a"] == transfers["b"]]
    if not same.empty:
        kind = same["type"].to_numpy()
        val = np.select(
            [kind == 1, kind == 2, kind == 3],
            [0, same["min_s"].to_numpy(), NO_TRANSFER_S],
            prof.min_transfer_s,
        )
        out[same["a"].to_numpy(np.int64)] = val
    return out.astype(np.int32)


# ---------------------------------------------------------------------- one feed, all feeds
@dataclass
class _FeedResult:
    stops: pd.DataFrame  # kept stops with lon, lat
    trip_id: list[str]
    route_type: I64
    route_id: list[str]
    day_offset: I64
    rows: dict[str, Any]  # inst (0..n_trips-1), stop (position in stops.txt), arr, dep
    transfers_feed: _Feed
    meta: dict[str, int]


def _read_feed(feed: _Feed, day: dt.date, on_error: str) -> _FeedResult:
    tables = _feed_tables(feed, day, on_error)
    where = feed.where("stop_times.txt")
    tpl = _templates(tables.stop_times, tables.stops["stop_id"], where)
    dropped = _drop_backwards(tpl, where)
    starts, n_freq = _frequency_starts(feed, pd.Index(tpl.trip_id))
    inst = _instances(tpl, tables.trips, starts)
    rows = _expand(tpl, inst)
    # an instance with fewer than two stop times on the date has no hop: left out
    n_rows = np.bincount(rows["inst"], minlength=inst.tpl.size)
    live = np.flatnonzero(n_rows >= 2)
    renum = np.full(inst.tpl.size, -1, dtype=np.int64)
    renum[live] = np.arange(live.size)
    keep = renum[rows["inst"]] >= 0
    rows = {k: v[keep] for k, v in rows.items()}
    rows["inst"] = renum[rows["inst"]]
    by_trip = tables.trips.drop_duplicates("trip_id").set_index("trip_id")
    tpl_trip = tpl.trip_id[inst.tpl[live]]
    day0 = inst.day_offset[live] == 0
    meta = dict(tables.counts)
    meta.update(
        {
            "trips_active": int(day0.sum()),
            "trips_previous_day": int((~day0).sum()),
            "stop_times": int(rows["arr"].size),
            "stop_times_active_day": int(np.isin(rows["inst"], np.flatnonzero(day0)).sum()),
            "frequency_rows": n_freq,
            "frequency_trips_expanded": int(sum(t in starts for t in tpl_trip)),
            "times_interpolated": tpl.interpolated,
            "trips_dropped_backwards": dropped,
        }
    )
    stops = _kept_stops(tables.stops, np.unique(rows["stop"]), feed.where("stops.txt"))
    return _FeedResult(
        stops,
        [inst.trip_id[k] for k in live],
        by_trip["route_type"].reindex(tpl_trip).to_numpy(dtype=np.int64),
        list(by_trip["route_id"].reindex(tpl_trip)),
        inst.day_offset[live],
        rows,
        feed,
        meta,
    )


def _combine(results: list[_FeedResult], prefix: bool) -> dict[str, Any]:
    """Stops, trips and stop times of every feed in one index space."""

    def pre(tag: str, ids: Iterable[str]) -> list[str]:
        return [f"{tag}:{i}" for i in ids] if prefix else list(ids)

    stop_ids: list[str] = []
    lon, lat, trip_id, rtype, rid = [], [], [], [], []
    st_trip, st_stop, st_arr, st_dep = [], [], [], []
    index_of: list[dict[str, int]] = []
    n_trips = 0
    for r in results:
        base = len(stop_ids)
        local = {sid: base + k for k, sid in enumerate(r.stops["stop_id"])}
        index_of.append(local)
        stop_ids += pre(r.transfers_feed.tag, r.stops["stop_id"])
        lon.append(r.stops["lon"].to_numpy())
        lat.append(r.stops["lat"].to_numpy())
        trip_id += pre(r.transfers_feed.tag, r.trip_id)
        rid += pre(r.transfers_feed.tag, r.route_id)
        rtype.append(r.route_type)
        st_trip.append(r.rows["inst"] + n_trips)
        to_global = np.full(int(r.stops["_pos"].max()) + 1 if len(r.stops) else 0, -1)
        to_global[r.stops["_pos"].to_numpy()] = base + np.arange(len(r.stops))
        st_stop.append(to_global[r.rows["stop"]])
        st_arr.append(r.rows["arr"])
        st_dep.append(r.rows["dep"])
        n_trips += len(r.trip_id)
    cat = np.concatenate
    return {
        "stop_id": stop_ids,
        "lon": cat(lon),
        "lat": cat(lat),
        "trip_id": trip_id,
        "route_type": cat(rtype),
        "route_id": rid,
        "index_of": index_of,
        "st": {"trip": cat(st_trip), "stop": cat(st_stop), "arr": cat(st_arr), "dep": cat(st_dep)},
    }


def _as_date(date: Any) -> dt.date:
    if isinstance(date, dt.datetime):
        return date.date()
    if isinstance(date, dt.date):
        return date
    if isinstance(date, str):
        for fmt in ("%Y-%m-%d", "%Y%m%d"):
            try:
                return dt.datetime.strptime(date, fmt).date()
            except ValueError:
                continue
    raise InputError(f"date {date!r} is not a date; give e.g. '2026-03-04' or a datetime.date")


def read_gtfs(
    feeds: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    date: dt.date | str,
    *,
    profile: TransitProfile | str | None = None,
    on_error: str = "raise",
) -> Timetable:
    """The :class:`Timetable` of ``feeds`` (a GTFS zip or folder, or several) on
    ``date`` (see the module docstring for every rule). ``profile`` (default the
    packaged ``"transit"``) gives the walking footpaths and the default change time;
    ``on_error='drop'`` drops rows naming missing stops, trips or routes (with one
    warning each) instead of raising."""
    if on_error not in _ON_ERROR:
        raise InputError(f"on_error={on_error!r}; use one of {_ON_ERROR}")
    day = _as_date(date)
    prof = load_transit_profile("transit" if profile is None else profile)
    opened = _feeds(feeds)
    results = [_read_feed(f, day, on_error) for f in opened]
    running = [r.meta["trips_active"] + r.meta["trips_previous_day"] for r in results]
    _check_service_day(opened, running, day)
    boms = [f"{f.tag}/{n}" for f in opened for n in f.boms]
    if boms:
        warnings.warn(
            f"GTFS files start with a UTF-8 byte-order mark: {boms}; read as "
            "UTF-8 (GTFS files should not have one)",
            stacklevel=2,
        )
    c = _combine(results, prefix=len(opened) > 1)
    counts: dict[str, Any] = {"transfers_trip_specific_skipped": 0, "transfers_rows": 0}
    transfers = pd.concat(
        [
            _transfer_rows(r.transfers_feed, r.stops, c["index_of"][k], counts)
            for k, r in enumerate(results)
        ],
        ignore_index=True,
    )
    stop_transfer = _stop_transfer_s(len(c["stop_id"]), transfers, prof)
    foot = _footpaths(c["lon"], c["lat"], transfers, prof, stop_transfer)
    meta: dict[str, Any] = {k: sum(r.meta[k] for r in results) for k in results[0].meta}
    meta.update(
        counts,
        stops=len(c["stop_id"]),
        byte_order_marks=boms,
        profile=prof.name,
        per_feed={f.tag: r.meta for f, r in zip(opened, results, strict=False)},
    )
    return build_timetable(
        stops={"stop_id": c["stop_id"], "stop_lon": c["lon"], "stop_lat": c["lat"]},
        trips={
            "trip_id": c["trip_id"],
            "trip_route_type": c["route_type"],
            "trip_route_id": c["route_id"],
        },
        stop_times=c["st"],
        footpaths=foot,
        stop_transfer_s=stop_transfer,
        date=day,
        feeds=tuple(f.tag for f in opened),
        meta=meta,
    )


def far_stops(
    timetable: Timetable,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    max_km: float,
    *,
    warn: bool = True,
) -> I64:
    """Indices of the stops farther than ``max_km`` (straight line) from every point
    ``(lon, lat)`` (e.g. the populated cells' centres); with ``warn``, one warning
    counting them and naming a few. Stops far from everyone usually mean a feed that
    covers more than the study area, or wrong coordinates."""
    from scipy.spatial import cKDTree

    plon, plat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if timetable.n_stops == 0:
        return np.zeros(0, dtype=np.int64)
    if plon.size == 0:
        far = np.arange(timetable.n_stops, dtype=np.int64)
    else:
        x, y = _local_xy(np.r_[timetable.stop_lon, plon], np.r_[timetable.stop_lat, plat])
        n = timetable.n_stops
        d, _ = cKDTree(np.column_stack([x[n:], y[n:]])).query(np.column_stack([x[:n], y[:n]]))
        far = np.flatnonzero(d > max_km * 1000.0).astype(np.int64)
    if warn and far.size:
        shown = ", ".join(repr(timetable.stop_id[k]) for k in far[:_SHOW])
        warnings.warn(
            f"{far.size:,} of {timetable.n_stops:,} stops lie more than {max_km:g} "
            f"km from every given point ({shown}{' ...' if far.size > _SHOW else ''})"
            "; check the feed covers the study area and its coordinates",
            stacklevel=2,
        )
    return far
