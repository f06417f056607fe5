"""The GTFS reader: services for a date, frequencies, times past midnight, transfers,
interpolation, broken feeds (hand-made feeds and the real ../shared fragments) and the
transit profile."""

from __future__ import annotations

import datetime as dt
import io
import math
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.shared import shared_file

from hexaccess.errors import GtfsError, HexaccessError, InputError, InputFileError, ProfileError
from hexaccess.transit import (
    NO_TRANSFER_S,
    Timetable,
    TransitProfile,
    far_stops,
    load_transit_profile,
    read_gtfs,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

WED = dt.date(2026, 3, 4)  # a Wednesday
# Stops ~1 km apart along a parallel (no walking footpaths between them at 500 m).
STOPS = """stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
A,A,60.17,24.90,,
B,B,60.17,24.92,,
C,C,60.17,24.94,,
D,D,60.17,24.96,,
ST,Station,60.17,24.98,1,
"""
ROUTES = "route_id,route_type\nR,3\nT,2\n"
CALENDAR = """service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,\
start_date,end_date
WK,1,1,1,1,1,0,0,20260101,20261231
WE,0,0,0,0,0,1,1,20260101,20261231
"""
TRIPS = "route_id,service_id,trip_id\nR,WK,wk1\nT,WE,we1\n"
STOP_TIMES = """trip_id,arrival_time,departure_time,stop_id,stop_sequence
wk1,08:00:00,08:00:00,A,1
wk1,08:10:00,08:11:00,B,2
wk1,08:20:00,08:20:00,C,3
we1,09:00:00,09:00:00,C,1
we1,09:30:00,09:30:00,D,2
"""


def feed(tmp_path: Path, name: str = "feed", zipped: bool = True, **files: str | None) -> Path:
    """A GTFS feed from the base tables above with ``files`` replaced (``None``:
    left out); keys are file stems (``stop_times=...``)."""
    tables = {"stops": STOPS, "routes": ROUTES, "calendar": CALENDAR, "trips": TRIPS,
              "stop_times": STOP_TIMES}  # fmt: skip
    tables.update(files)
    if zipped:
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as z:
            for stem, text in tables.items():
                if text is not None:
                    z.writestr(f"{stem}.txt", text)
        return path
    path = tmp_path / name
    path.mkdir()
    for stem, text in tables.items():
        if text is not None:
            (path / f"{stem}.txt").write_text(text, encoding="utf-8")
    return path


def hms(s: str) -> int:
    h, m, x = (int(v) for v in s.split(":"))
    return h * 3600 + m * 60 + x


def conns(tt: Timetable) -> list[tuple[str, int, str, str, int, int]]:
    """Connections as (trip id, seq, from, to, dep, arr), in timetable order."""
    return [
        (tt.trip_id[t], int(q), tt.stop_id[a], tt.stop_id[b], int(d), int(r))
        for t, q, a, b, d, r in zip(tt.conn_trip, tt.conn_seq, tt.conn_dep_stop,
                                    tt.conn_arr_stop, tt.conn_dep_time, tt.conn_arr_time,
                                    strict=True)
    ]  # fmt: skip


# ---------------------------------------------------------------------- services
def test_calendar_weekdays_and_date_range(tmp_path: Path) -> None:
    path = feed(tmp_path)
    wed = read_gtfs(path, WED)
    assert list(wed.trip_id) == ["wk1"]
    assert conns(wed) == [
        ("wk1", 0, "A", "B", hms("08:00:00"), hms("08:10:00")),
        ("wk1", 1, "B", "C", hms("08:11:00"), hms("08:20:00")),
    ]
    sat = read_gtfs(path, "2026-03-07")
    assert list(sat.trip_id) == ["we1"]
    assert sat.trip_route_type.tolist() == [2] and list(sat.trip_route_id) == ["T"]
    # after end_date no trip runs: an error naming the date and the service period
    with pytest.raises(GtfsError, match=r"no trip runs on 2027-03-03 .*2026-01-01 to 2026-12-31"):
        read_gtfs(path, "2027-03-03")
    # one idle feed among others only warns
    other = feed(tmp_path, "other", calendar=CALENDAR.replace("20261231", "20260301"))
    with pytest.warns(UserWarning, match=r"no trip runs on 2026-03-04 .* in 1 of 2 feeds"):
        assert list(read_gtfs([path, other], WED).trip_id) == ["feed:wk1"]
    # the station (location_type 1) is not used by any stop time: left out
    assert list(wed.stop_id) == ["A", "B", "C", "D"]
    assert wed.stop_lat.dtype == np.float64 and wed.conn_dep_time.dtype == np.int32


def test_calendar_dates_add_and_remove(tmp_path: Path) -> None:
    dates = "service_id,date,exception_type\nWK,20260304,2\nX,20260304,1\n"
    trips = TRIPS + "R,X,x1\n"
    st = STOP_TIMES + "x1,10:00:00,10:00:00,A,1\nx1,10:05:00,10:05:00,D,2\n"
    tt = read_gtfs(feed(tmp_path, calendar_dates=dates, trips=trips, stop_times=st), WED)
    assert list(tt.trip_id) == ["x1"]  # WK removed, X (only in calendar_dates) added
    # calendar_dates.txt alone (no calendar.txt) is a valid feed
    only = feed(tmp_path, "only", calendar=None, calendar_dates=dates, trips=trips, stop_times=st)
    assert list(read_gtfs(only, WED).trip_id) == ["x1"]


def test_a_folder_reads_like_a_zip(tmp_path: Path) -> None:
    a = read_gtfs(feed(tmp_path), WED)
    b = read_gtfs(feed(tmp_path, "dir", zipped=False), WED)
    assert conns(a) == conns(b)


# ---------------------------------------------------------------------- frequencies
@pytest.mark.parametrize("exact", ["0", "1", ""])
def test_frequencies_expand_every_headway(tmp_path: Path, exact: str) -> None:
    freq = (
        f"trip_id,start_time,end_time,headway_secs,exact_times\nwk1,07:00:00,08:00:00,900,{exact}\n"
    )
    tt = read_gtfs(feed(tmp_path, frequencies=freq), WED)
    starts = list(range(hms("07:00:00"), hms("08:00:00"), 900))  # end time excluded
    assert len(starts) == 4
    expected = []
    for s in starts:
        tid = f"wk1@{s // 3600:02d}:{s // 60 % 60:02d}:00"
        # the template's offsets from its first departure: B +10/+11 min, C +20 min
        expected += [(tid, 0, "A", "B", s, s + 600), (tid, 1, "B", "C", s + 660, s + 1200)]
    assert sorted(conns(tt)) == sorted(expected)
    assert tt.meta["frequency_trips_expanded"] == 4 and tt.meta["frequency_rows"] == 1


# ---------------------------------------------------------------------- midnight
def test_times_past_midnight_and_the_previous_days_trips(tmp_path: Path) -> None:
    st = STOP_TIMES + (
        "late,23:50:00,23:50:00,A,1\nlate,24:05:00,24:06:00,B,2\nlate,24:20:00,24:20:00,C,3\n"
    )
    path = feed(tmp_path, trips=TRIPS + "R,WK,late\n", stop_times=st)
    tue = read_gtfs(path, "2026-03-03")
    late = [c for c in conns(tue) if c[0] == "late"]
    assert late == [("late", 0, "A", "B", hms("23:50:00"), hms("24:05:00")),
                    ("late", 1, "B", "C", hms("24:06:00"), hms("24:20:00"))]  # fmt: skip
    # Wednesday: Tuesday's late trip runs 00:06-00:20 on it (shifted -24 h); its hop
    # leaving before midnight is not on the date
    wed = read_gtfs(path, WED)
    prev = [c for c in conns(wed) if c[0] == "late@prev"]
    assert prev == [("late@prev", 0, "B", "C", hms("00:06:00"), hms("00:20:00"))]
    assert wed.meta["trips_previous_day"] == 1
    # Monday: Sunday has no WK service, so no previous-day trip
    mon = read_gtfs(path, "2026-03-02")
    assert [c for c in conns(mon) if c[0].endswith("@prev")] == []


# ---------------------------------------------------------------------- stop times
def test_empty_times_are_interpolated_by_stop_sequence(tmp_path: Path) -> None:
    st = """trip_id,arrival_time,departure_time,stop_id,stop_sequence,timepoint
wk1,08:00:00,08:00:00,A,10,1
wk1,,,B,20,0
wk1,,,C,30,0
wk1,08:30:00,08:30:00,D,40,1
"""
    tt = read_gtfs(feed(tmp_path, stop_times=st), WED)
    # two non-timepoints between 08:00 and 08:30: at 1/3 and 2/3 of the way
    assert [(c[4], c[5]) for c in conns(tt)] == [
        (hms("08:00:00"), hms("08:10:00")),
        (hms("08:10:00"), hms("08:20:00")),
        (hms("08:20:00"), hms("08:30:00")),
    ]
    assert tt.meta["times_interpolated"] == 2


def test_stop_sequence_orders_rows_not_the_file(tmp_path: Path) -> None:
    rows = STOP_TIMES.splitlines()
    st = "\n".join([rows[0], rows[3], rows[1], rows[2]]) + "\n"  # wk1 rows shuffled
    assert conns(read_gtfs(feed(tmp_path, stop_times=st), WED)) == conns(
        read_gtfs(feed(tmp_path, "plain"), WED)
    )


def test_times_going_backwards_warn_and_drop_the_trip(tmp_path: Path) -> None:
    st = STOP_TIMES + "bad,09:00:00,09:00:00,A,1\nbad,08:50:00,08:50:00,B,2\n"
    path = feed(tmp_path, trips=TRIPS + "R,WK,bad\n", stop_times=st)
    with pytest.warns(UserWarning, match=r"times going backwards.*'bad' at line 8"):
        tt = read_gtfs(path, WED)
    assert "bad" not in list(tt.trip_id) and tt.meta["trips_dropped_backwards"] == 1


# ---------------------------------------------------------------------- transfers
def test_transfers_and_walking_footpaths(tmp_path: Path) -> None:
    stops = STOPS + "A2,A2,60.1710,24.90,,\nB2,B2,60.1705,24.92,,\nP,P,60.17,24.90,,ST\n"
    transfers = """from_stop_id,to_stop_id,transfer_type,min_transfer_time
A,A,1,
B,B,2,300
C,C,3,
B,B2,3,
A,D,2,600
"""
    prof = TransitProfile()
    tt = read_gtfs(feed(tmp_path, stops=stops, transfers=transfers), WED, profile=prof)
    ix = {s: k for k, s in enumerate(tt.stop_id)}
    st = dict(zip(tt.stop_id, tt.stop_transfer_s.tolist(), strict=True))
    assert st["A"] == 0 and st["B"] == 300 and st["C"] == NO_TRANSFER_S
    assert st["D"] == prof.min_transfer_s  # not in transfers.txt: the profile's
    foot = {(tt.stop_id[a], tt.stop_id[b]): int(s)
            for a, b, s in zip(tt.foot_from, tt.foot_to, tt.foot_s, strict=True)}  # fmt: skip
    # A -> A2: 0.001 deg of latitude = 111.2 m straight (geodesic), x 1.3 / (4.8 km/h)
    from pyproj import Geod

    d = Geod(ellps="WGS84").inv(24.90, 60.17, 24.90, 60.171)[2]
    assert abs(foot[("A", "A2")] - d * 1.3 / (4.8 / 3.6)) <= 1.0
    assert foot[("A", "A2")] == foot[("A2", "A")]
    assert ("B", "B2") not in foot and ("B2", "B") in foot  # type 3 removes one way only
    # type 2 between stops: the whole change takes min_transfer_time (600 s) =
    # footpath + change time at the boarding stop D
    assert foot[("A", "D")] == 600 - st["D"]
    assert ("A", "A") not in foot  # no self loops: stop_transfer_s holds them
    order = np.lexsort((tt.foot_to, tt.foot_from))
    assert (order == np.arange(tt.n_footpaths)).all()
    assert ix["P"] >= 0  # a platform with a parent station is a stop


def test_trip_specific_transfers_are_skipped_and_counted(tmp_path: Path) -> None:
    transfers = "from_stop_id,to_stop_id,from_trip_id,to_trip_id,transfer_type\nA,B,wk1,we1,1\n"
    tt = read_gtfs(feed(tmp_path, transfers=transfers), WED)
    assert tt.meta["transfers_trip_specific_skipped"] == 1


def test_several_feeds_get_prefixed_ids_and_walks_between_them(tmp_path: Path) -> None:
    d1, d2 = tmp_path / "one", tmp_path / "two"
    d1.mkdir()
    d2.mkdir()
    stops2 = "stop_id,stop_name,stop_lat,stop_lon\nA,A',60.1701,24.90\nZ,Z,60.2,25.0\n"
    st2 = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "wk1,09:00:00,09:00:00,A,1\nwk1,09:10:00,09:10:00,Z,2\n"
    )
    tt = read_gtfs([feed(d1, "hsl"), feed(d2, "hsl", stops=stops2, stop_times=st2)], WED)
    assert tt.feeds == ("hsl", "hsl_2")
    assert list(tt.stop_id) == ["hsl:A", "hsl:B", "hsl:C", "hsl:D", "hsl_2:A", "hsl_2:Z"]
    assert sorted(tt.trip_id) == ["hsl:wk1", "hsl_2:wk1"]
    pairs = {(tt.stop_id[a], tt.stop_id[b]) for a, b in zip(tt.foot_from, tt.foot_to, strict=True)}
    assert ("hsl:A", "hsl_2:A") in pairs  # 11 m apart, in different feeds


# ---------------------------------------------------------------------- broken feeds
@pytest.mark.parametrize(
    ("files", "error", "words"),
    [
        ({"stops": None}, InputFileError, ["has no stops.txt"]),
        ({"calendar": None}, InputFileError, ["neither calendar.txt nor calendar_dates.txt"]),
        ({"trips": "route_id,trip_id\nR,wk1\n"}, InputError, ["trips.txt", "service_id"]),
        ({"stop_times": STOP_TIMES.replace("08:10:00,08:11:00", "8h10,08:11:00")}, InputError,
         ["stop_times.txt line 3", "'wk1'", "'8h10'", "HH:MM:SS"]),
        ({"stop_times": STOP_TIMES.replace("wk1,08:20:00,08:20:00,C", "wk1,08:20:00,08:20:00,Q")},
         InputError, ["stop_times.txt", "line 4", "stop_id 'Q'", "on_error='drop'"]),
        ({"trips": TRIPS.replace("R,WK", "NOPE,WK")}, InputError,
         ["trips.txt", "line 2", "route_id 'NOPE'", "trip_id 'wk1'"]),
        ({"stop_times": STOP_TIMES + "ghost,08:00:00,08:00:00,A,1\n"}, InputError,
         ["trip_id 'ghost'", "missing from trips.txt"]),
        ({"routes": "route_id,route_type,route_type\nR,3,3\n"}, InputError,
         ["repeats", "route_type"]),
        ({"calendar": CALENDAR.replace("20261231", "2026-12-31")}, InputError,
         ["calendar.txt line 2", "end_date", "YYYYMMDD"]),
    ],
)  # fmt: skip
def test_broken_feeds_name_file_line_id_and_fix(
    tmp_path: Path, files: dict[str, str | None], error: type[Exception], words: list[str]
) -> None:
    with pytest.raises(error) as info:
        read_gtfs(feed(tmp_path, **files), WED)
    assert isinstance(info.value, HexaccessError)
    for w in words:
        assert w in str(info.value)


def test_on_error_drop_skips_broken_rows_with_a_warning(tmp_path: Path) -> None:
    st = STOP_TIMES.replace("wk1,08:10:00,08:11:00,B", "wk1,08:10:00,08:11:00,Q")
    with pytest.warns(UserWarning, match=r"1 stop time\(s\) name a stop_id missing.*dropped"):
        tt = read_gtfs(feed(tmp_path, stop_times=st), WED, on_error="drop")
    assert [c[2:] for c in conns(tt)] == [("A", "C", hms("08:00:00"), hms("08:20:00"))]
    with pytest.raises(InputError, match="on_error"):
        read_gtfs(feed(tmp_path, "x"), WED, on_error="ignore")


def test_a_byte_order_mark_is_read_and_warned(tmp_path: Path) -> None:
    path = tmp_path / "bom.zip"
    plain = feed(tmp_path, "plain")
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as z:
        for n in src.namelist():
            data = src.read(n)
            z.writestr(n, b"\xef\xbb\xbf" + data if n == "stop_times.txt" else data)
    with pytest.warns(UserWarning, match="byte-order mark"):
        tt = read_gtfs(path, WED)
    assert conns(tt) == conns(read_gtfs(plain, WED))


# ---------------------------------------------------------------------- real feeds
def _csv(z: zipfile.ZipFile, name: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(z.read(name)), dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")  # fmt: skip


@pytest.mark.shared_data
def test_real_broken_hsl_fragment() -> None:
    path = shared_file("gtfs/hsl_centre_2022_broken.zip")
    with zipfile.ZipFile(path) as z:
        stops, st, trips, routes = (_csv(z, f"{n}.txt") for n in
                                    ("stops", "stop_times", "trips", "routes"))  # fmt: skip
        bom = z.read("stop_times.txt").startswith(b"\xef\xbb\xbf")
    n_missing_stop = int((~st["stop_id"].isin(stops["stop_id"])).sum())
    bad_routes = trips.loc[~trips["route_id"].isin(routes["route_id"]), "route_id"].tolist()
    assert n_missing_stop > 0 and bad_routes and bom  # the fragment is broken as described
    with pytest.raises(InputError) as info:
        read_gtfs(path, "2022-03-02")
    msg = str(info.value)
    assert f"{n_missing_stop:,} stop time(s) name a stop_id missing from stops.txt" in msg
    assert f"route_id {bad_routes[0]!r}" in msg and "on_error='drop'" in msg
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tt = read_gtfs(path, "2022-03-02", on_error="drop")
    text = " | ".join(str(w.message) for w in caught)
    assert "byte-order mark" in text and "stop_times.txt" in text
    assert tt.meta["stop_times_missing_stop"] == n_missing_stop
    assert tt.meta["trips_missing_route"] == len(bad_routes)
    assert tt.n_connections > 0


MATKAHUOLTO_DAY = dt.date(2025, 9, 10)  # a Wednesday inside 2025-06-12 .. 2026-05-31


@pytest.mark.shared_data
def test_real_matkahuolto_feed_counts() -> None:
    path = shared_file("gtfs/matkahuolto_nurmijarvi_2025.zip")
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        stops, st, trips, cd, routes = (_csv(z, f"{n}.txt") for n in
                                        ("stops", "stop_times", "trips", "calendar_dates",
                                         "routes"))  # fmt: skip
    assert "calendar.txt" not in names  # calendar_dates only

    def active(day: dt.date) -> pd.DataFrame:
        on = cd[(cd["date"] == day.strftime("%Y%m%d")) & (cd["exception_type"] == "1")]
        return trips[trips["service_id"].isin(on["service_id"])]

    today = active(MATKAHUOLTO_DAY)
    st_today = st[st["trip_id"].isin(today["trip_id"])]
    # previous day's trips: their stop times leaving at or after 24:00 (HH:MM:SS sorts
    # as text while hours have two digits)
    prev = st[st["trip_id"].isin(active(MATKAHUOLTO_DAY - dt.timedelta(days=1))["trip_id"])]
    prev = prev[prev["departure_time"] >= "24:00:00"]
    prev_rows = prev.groupby("trip_id").size()
    prev_rows = prev_rows[prev_rows >= 2]
    expected_conns = (len(st_today) - len(today)) + int((prev_rows - 1).sum())
    platforms = stops[stops["location_type"].isin(["", "0"])]

    tt = read_gtfs(path, MATKAHUOLTO_DAY)
    assert tt.meta["trips_active"] == len(today)
    assert tt.meta["stop_times_active_day"] == len(st_today)
    assert tt.meta["trips_previous_day"] == len(prev_rows)
    assert tt.n_connections == expected_conns
    assert tt.n_stops == len(platforms)
    assert set(tt.trip_route_type.tolist()) == set(routes["route_type"].astype(int))
    # transfers.txt of this feed is trip-to-trip only: skipped and counted
    assert tt.meta["transfers_trip_specific_skipped"] == 377
    d = np.lexsort((tt.conn_seq, tt.conn_trip, tt.conn_arr_time, tt.conn_dep_time))
    assert (d == np.arange(tt.n_connections)).all()
    assert (tt.conn_arr_time >= tt.conn_dep_time).all()


# ---------------------------------------------------------------------- far stops
def test_far_stops_warns_about_stops_far_from_every_point(tmp_path: Path) -> None:
    tt = read_gtfs(feed(tmp_path), WED)
    # cells around A only: B is ~1.1 km east of A, C ~2.2 km, D ~3.3 km
    with pytest.warns(UserWarning, match="2 of 4 stops lie more than 2 km"):
        far = far_stops(tt, [24.90], [60.17], 2.0)
    assert [tt.stop_id[k] for k in far] == ["C", "D"]
    assert far_stops(tt, [24.90, 24.96], [60.17, 60.17], 2.0, warn=False).size == 0


# ---------------------------------------------------------------------- profile
def test_packaged_transit_profile_matches_its_toml() -> None:
    prof = load_transit_profile("transit")
    toml = Path(prof.source)
    data = tomllib.loads(toml.read_text(encoding="utf-8"))
    assert prof.walk_speed_kmh == data["walk"]["speed_kmh"]
    assert prof.detour_factor == data["walk"]["detour_factor"]
    assert prof.max_access_m == data["walk"]["max_access_m"]
    assert prof.max_transfer_m == data["walk"]["max_transfer_m"]
    assert prof.max_transfers == data["transfers"]["max_transfers"]
    assert prof.boarding_slack_s == data["transfers"]["boarding_slack_s"]
    assert prof.min_transfer_s == data["transfers"]["min_transfer_s"]
    assert prof.window_minutes == data["window"]["minutes"]
    assert prof.step_s == data["window"]["step_s"]
    assert list(prof.percentiles) == data["window"]["percentiles"]
    assert math.isclose(prof.walk_seconds(1000.0), 1000 * 1.3 / (4.8 / 3.6))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('name = "x"\n[walk]\nspeed_kmhh = 4\n', ["walk.speed_kmhh", "did you mean 'speed_kmh'"]),
        ('name = "x"\n[walk]\nspeed_kmh = 40\n', ["walk.speed_kmh", "40", "[0.5, 10]"]),
        ('name = "x"\n[transfers]\nmax_transfers = 1.5\n', ["whole number"]),
        ('name = "x"\n[window]\npercentiles = [50, 25]\n', ["strictly increasing"]),
        ('name = "x"\n[walk]\nmax_access_m = 0\n', ["(0, 10000]"]),
        ('[walk]\nspeed_kmh = 4\n', ["'name'"]),
        ('name = "x"\nwindw = 3\n', ["did you mean 'window'"]),
    ],
)  # fmt: skip
def test_transit_profile_errors_name_key_and_file(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_transit_profile(path)
    assert str(path) in str(info.value)
    for w in words:
        assert w in str(info.value)


def test_transit_profile_missing_file_names_the_packaged_ones(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="did you mean 'transit'"):
        load_transit_profile("transt")
    custom = tmp_path / "slow.toml"
    custom.write_text('name = "slow"\n[walk]\nspeed_kmh = 3.6\n', encoding="utf-8")
    prof = load_transit_profile(custom)
    assert prof.walk_speed_kmh == 3.6 and prof.min_transfer_s == TransitProfile().min_transfer_s
