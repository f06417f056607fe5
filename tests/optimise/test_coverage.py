"""Coverage matrix (``hexaccess.optimise``, once ``hexaccess.coverage``): equality with
per-candidate engine searches and scipy's Dijkstra on a small real-input study, Parquet
round trip and the verified cache, network evaluation recomputed with numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from pyogrio.raw import write
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from hexaccess import accessibility
from hexaccess.network import read_roads
from hexaccess.offices import Offices
from hexaccess.optimise import CoverageMatrix, coverage_matrix, evaluate_networks
from hexaccess.population import read_eurostat_grid
from hexaccess.profiles import load_profile

X0, Y0 = 385_000.0, 6_672_000.0  # EPSG:3067, near Helsinki


def _study(tmp_path):
    """A 4×4 road grid (5 km spacing, one one-way street), 12 populated squares and 6
    candidate sites."""
    lines, levels, oneway = [], [], []
    for a in range(4):
        for b in range(3):
            lines.append(
                shapely.LineString(
                    [(X0 + a * 5e3, Y0 + b * 5e3), (X0 + a * 5e3, Y0 + (b + 1) * 5e3)]
                )
            )
            lines.append(
                shapely.LineString(
                    [(X0 + b * 5e3, Y0 + a * 5e3), (X0 + (b + 1) * 5e3, Y0 + a * 5e3)]
                )
            )
            levels += [22, 21]
            oneway += ["yes" if (a, b) == (1, 1) else "", ""]
    roads = tmp_path / "roads.gpkg"
    write(
        roads,
        geometry=shapely.to_wkb(np.array(lines, dtype=object)),
        field_data=[np.array(levels, dtype=np.int32), np.array(oneway)],
        fields=["IGDS_LEVEL", "oneway"],
        geometry_type="LineString",
        crs="EPSG:3067",
        driver="GPKG",
    )
    rng = np.random.default_rng(3)
    to3035 = Transformer.from_crs("EPSG:3067", "EPSG:3035", always_xy=True)
    rows = []
    for k, (x, y) in enumerate(rng.uniform(0, 15_000, (12, 2))):
        e, n = to3035.transform(X0 + x, Y0 + y)
        e, n = int(e // 1000 * 1000), int(n // 1000 * 1000)
        rows.append({"GRD_ID": f"CRS3035RES1000mN{n}E{e}", "T": 50 * (k + 1), "Y_GE65": 5 * k})
    pop = tmp_path / "pop.csv"
    pd.DataFrame(rows).drop_duplicates("GRD_ID").to_csv(pop, index=False)
    to_ll = Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)
    xy = rng.uniform(0, 15_000, (6, 2))
    lon, lat = to_ll.transform(X0 + xy[:, 0], Y0 + xy[:, 1])
    sites = pd.DataFrame(
        {"name": [f"s{j}" for j in range(6)], "lon": lon, "lat": lat, "fixed": [True] + [False] * 5}
    )
    profile = load_profile("car_fi")
    net = read_roads(roads, profile)
    grid = read_eurostat_grid(pop, resolution=8)
    access = accessibility.build_access_graph(
        net, grid, Offices(sites), profile, urban_slowdown=False
    )
    return access


@pytest.fixture(scope="module")
def access(tmp_path_factory):
    return _study(tmp_path_factory.mktemp("study"))


def test_matrix_equals_per_candidate_searches_and_scipy(access):
    cutoff = 900.0  # 15 minutes: some pairs fall outside
    calls = []
    mat = coverage_matrix(access, cutoff_s=cutoff, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1] == len(access.offices)
    dense = mat.dense_time_s()
    g = access.graph
    indptr, head, time_s, _ = g.csr()
    tail = np.repeat(np.arange(g.num_nodes), np.diff(indptr))
    sp = csr_matrix((time_s, (tail, head)), shape=(g.num_nodes, g.num_nodes))
    scipy_t = dijkstra(sp, indices=access.office_node)[:, access.cell_node]
    term = access.profile.terminal_time_s
    for j, node in enumerate(access.office_node):
        r = g.nearest([node], offsets_s=[term], cutoff_s=cutoff)
        t = r.time_s[access.cell_node]
        expect = np.where(t <= cutoff, np.floor(t / mat.time_unit_s) * mat.time_unit_s, np.inf)
        np.testing.assert_array_equal(dense[j], expect)
        sc = scipy_t[j] + term
        np.testing.assert_allclose(
            np.where(sc <= cutoff, sc, np.inf), np.where(np.isfinite(t), t, np.inf), rtol=1e-9
        )
        lengths = r.length_m[access.cell_node]
        cells, _, dist = mat.column(j)
        np.testing.assert_allclose(dist, lengths[cells].astype(np.float32))
    assert np.isfinite(dense).any() and np.isinf(dense).any()
    # The transpose lists the same pairs, each row sorted by time.
    bc = mat.by_cell()
    for i in range(mat.num_cells):
        r = slice(bc.indptr[i], bc.indptr[i + 1])
        reach = np.flatnonzero(np.isfinite(dense[:, i]))
        assert sorted(bc.candidate[r].tolist()) == reach.tolist()
        assert np.all(np.diff(bc.time[r].astype(int)) >= 0)
        np.testing.assert_array_equal(bc.time[r] * mat.time_unit_s, dense[bc.candidate[r], i])


def test_parquet_round_trip(access, tmp_path):
    mat = coverage_matrix(access, cutoff_s=1800.0, inputs={"note": None})
    mat.save(tmp_path / "m")
    back = CoverageMatrix.load(tmp_path / "m")
    for name in ("indptr", "cell", "time", "distance_m"):
        np.testing.assert_array_equal(getattr(back, name), getattr(mat, name))
        assert getattr(back, name).dtype == getattr(mat, name).dtype
    assert back.cutoff_s == 1800.0 and back.time_unit_s == mat.time_unit_s
    assert back.population_columns == mat.population_columns
    assert back.meta["profile"] == "car_fi" or back.meta["profile"] == access.profile.name
    pd.testing.assert_frame_equal(back.cells, mat.cells)
    assert back.candidates["name"].tolist() == mat.candidates["name"].tolist()
    assert back.candidates["fixed"].tolist() == [True] + [False] * 5


def test_time_unit_holds_long_cutoffs():
    t = np.array([[10.0, 70_000.0, np.inf]])
    mat = CoverageMatrix.from_dense(t, [1, 1, 1], cutoff_s=100_000.0)
    assert mat.time_unit_s == 2.0  # 1 s would overflow uint16
    np.testing.assert_array_equal(mat.dense_time_s(), [[10.0, 70_000.0, np.inf]])
    with pytest.raises(ValueError, match="uint16"):
        from hexaccess.optimise import coverage_matrix as cm

        cm(type("A", (), {})(), cutoff_s=100_000.0, time_unit_s=1.0)


@pytest.mark.parametrize("backend", ["rust", "numba"])
def test_evaluate_networks_matches_numpy(backend):
    rng = np.random.default_rng(7)
    m, n = 25, 300
    t = rng.uniform(0, 5400, (m, n))
    t[rng.random((m, n)) < 0.3] = np.inf
    d = t * 20.0
    w = rng.integers(0, 50, n).astype(float)
    mat = CoverageMatrix.from_dense(t, w, distance_m=d, cutoff_s=3600.0)
    nets = [rng.choice(m, size=k, replace=False) for k in (1, 3, 5, 8, 25)]
    ev = evaluate_networks(mat, nets, band_minutes=10.0, backend=backend)
    tq = np.where(t <= 3600.0, np.floor(t), np.inf)
    for k, net in enumerate(nets):
        net = np.sort(net)  # equal times: the lower candidate index wins (as documented)
        sub = tq[net]
        best = sub.min(axis=0)
        arg = sub.argmin(axis=0)
        served = np.isfinite(best)
        expect, _ = np.histogram(best[served] / 60.0, bins=np.arange(0, 61, 10), weights=w[served])
        # The cutoff itself (inclusive) belongs to the last band.
        np.testing.assert_allclose(ev.counts[k], expect)
        assert ev.beyond_cutoff[k] == pytest.approx(w[~served].sum())
        assert ev.mean_time_min()[k] == pytest.approx(
            np.average(best[served], weights=w[served]) / 60.0
        )
        dist = d[net][arg, np.arange(n)].astype(np.float32)
        assert ev.mean_distance_km()[k] == pytest.approx(
            np.average(dist[served], weights=w[served]) / 1000.0, rel=1e-6
        )
        assert ev.share_within(30.0)[k] == pytest.approx(w[best < 1800].sum() / w.sum())
    assert ev.to_frame(0)["cumulative_pct"].iloc[-1] == pytest.approx(
        100 * ev.served()[0] / w.sum()
    )


def test_evaluate_networks_rust_equals_numba_bit_for_bit():
    # More than 64 networks (the Rust kernel's block), duplicate members, integer times
    # with ties, networks of one site and of all sites.
    rng = np.random.default_rng(11)
    m, n = 70, 400
    t = rng.integers(0, 3600, (m, n)).astype(float)
    t[rng.random((m, n)) < 0.5] = np.inf
    w = rng.integers(0, 30, n) + rng.random(n)
    mat = CoverageMatrix.from_dense(t, w, distance_m=t * 13.7, cutoff_s=3600.0)
    nets = [rng.choice(m, size=int(k)) for k in rng.integers(1, 12, 150)]
    nets += [np.arange(m), np.array([3])]
    a = evaluate_networks(mat, nets, band_minutes=7.5, backend="rust")
    b = evaluate_networks(mat, nets, band_minutes=7.5, backend="numba")
    for field in ("counts", "beyond_cutoff"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    np.testing.assert_array_equal(a.mean_time_min(), b.mean_time_min())
    np.testing.assert_array_equal(a.mean_distance_km(), b.mean_distance_km())


def test_candidates_from_cells_aggregate_people_and_municipality():
    import h3

    from hexaccess.optimise import candidates_from_cells
    from hexaccess.population import PopulationGrid, cell_to_parent

    # Nine res-8 cells under two res-6 parents, with municipalities and people.
    base = [h3.latlng_to_cell(60.2 + 0.01 * k, 24.9 + 0.012 * k, 8) for k in range(6)]
    base += [h3.latlng_to_cell(62.0 + 0.01 * k, 25.7, 8) for k in range(3)]
    cells = np.array(sorted({int(c, 16) for c in base}), dtype=np.uint64)
    people = np.arange(1, cells.size + 1) * 100
    muni = np.where(np.arange(cells.size) % 3 == 0, "091", "049")
    frame = pd.DataFrame({"total": people, "municipality": muni}, index=pd.Index(cells))
    grid = PopulationGrid(frame, 8)
    cand = candidates_from_cells(grid, 6, min_population=0)
    parent = cell_to_parent(cells, 6)
    expect = pd.Series(people, index=parent).groupby(level=0).sum()
    assert sorted(cand["population"]) == sorted(expect.to_numpy())
    for row in cand.itertuples():
        mine = parent == np.uint64(int(row.name, 16))
        by = pd.Series(people[mine]).groupby(muni[mine]).sum()
        assert row.municipality == by.sort_values(ascending=False).index[0]
        lat, lon = h3.cell_to_latlng(row.name)
        assert (row.lat, row.lon) == pytest.approx((lat, lon))
    big = candidates_from_cells(grid, 6, min_population=float(expect.max()))
    assert len(big) == 1
    with pytest.raises(ValueError, match="resolution"):
        candidates_from_cells(grid, 9)


def _small():
    t = np.array([[60.0, 600.0, np.inf], [120.0, np.inf, 30.0]])
    return CoverageMatrix.from_dense(t, [3.0, 2.0, 1.0], cutoff_s=900.0)


def test_from_dense_refuses_times_it_cannot_store():
    # 7000 s at a 0.01 s unit used to wrap around uint16 silently (stored as 446.4 s).
    with pytest.raises(ValueError, match="uint16"):
        CoverageMatrix.from_dense([[7000.0]], [1.0], cutoff_s=7200.0, time_unit_s=0.01)
    with pytest.raises(ValueError, match=r"time_s\[0, 1\] is nan"):
        CoverageMatrix.from_dense([[1.0, np.nan]], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"time_s\[1, 0\] is -5"):
        CoverageMatrix.from_dense([[1.0], [-5.0]], [1.0])
    with pytest.raises(ValueError, match="population has shape"):
        CoverageMatrix.from_dense([[1.0, 2.0]], [1.0])
    with pytest.raises(ValueError, match="cutoff must be a finite"):
        CoverageMatrix.from_dense([[1.0]], [1.0], cutoff_s=np.inf)


def test_matrix_invariants_are_checked_at_construction():
    import dataclasses

    mat = _small()
    with pytest.raises(ValueError, match="non-decreasing"):
        dataclasses.replace(mat, indptr=np.array([0, 3, 2], np.int64))
    # A time beyond the cutoff would make the evaluation kernel read past its table.
    with pytest.raises(ValueError, match=r"within 0\.\.900"):
        dataclasses.replace(mat, time=np.array([60, 901, 120, 30], np.uint16))
    with pytest.raises(ValueError, match=r"cell indices outside 0\.\.2"):
        dataclasses.replace(mat, cell=np.array([0, 1, 0, 3], np.int32))
    with pytest.raises(ValueError, match=r"\['people'\]"):
        dataclasses.replace(mat, population_columns=("people",))
    with pytest.raises(ValueError, match=r"lack column\(s\) \['lat'\]"):
        dataclasses.replace(mat, candidates=mat.candidates.drop(columns="lat"))


def test_weights_refuse_nan_negative_and_all_zero():
    from hexaccess.optimise import optimise

    t = np.array([[60.0, 600.0], [120.0, 30.0]])
    for bad, pattern in ((np.nan, "cell 1 .cell1. holds nan"), (-2.0, "cell 1 .cell1. holds -2")):
        mat = CoverageMatrix.from_dense(t, [1.0, bad], cutoff_s=900.0)
        with pytest.raises(ValueError, match=pattern):
            mat.weights()
    zero = CoverageMatrix.from_dense(t, [0.0, 0.0], cutoff_s=900.0)
    with pytest.raises(ValueError, match="is 0 in every cell"):  # was a ZeroDivisionError
        optimise(zero, "mean-time", total=1, fixed=[])


def test_load_errors_name_the_directory_and_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pytest.raises(FileNotFoundError, match="nowhere: not a coverage matrix"):
        CoverageMatrix.load(tmp_path / "nowhere")
    mat = _small()
    mat.save(tmp_path / "m")
    entries = tmp_path / "m" / "entries.parquet"
    table = pq.read_table(entries)
    pq.write_table(table.replace_schema_metadata({}), entries)
    with pytest.raises(ValueError, match=r"entries\.parquet: no 'hexaccess' metadata"):
        CoverageMatrix.load(tmp_path / "m")
    mat.save(tmp_path / "m")
    (tmp_path / "m" / "cells.parquet").unlink()
    with pytest.raises(FileNotFoundError, match=r"m: not a coverage matrix \(no cells.parquet\)"):
        CoverageMatrix.load(tmp_path / "m")
    # A stored time beyond the cutoff is refused with the directory named.
    mat.save(tmp_path / "m")
    kv = pq.read_table(entries).schema.metadata
    broken = pq.read_table(entries).set_column(
        2, "time", pa.array(np.array([60, 999, 120, 30], np.uint16))
    )
    pq.write_table(broken.replace_schema_metadata(kv), entries)
    with pytest.raises(ValueError, match=r"m: stored times must be within 0..900"):
        CoverageMatrix.load(tmp_path / "m")


def test_evaluate_networks_refuses_bad_arguments(monkeypatch):
    from hexaccess import _backend

    mat = _small()
    with pytest.raises(ValueError, match="backend must be one of"):
        evaluate_networks(mat, [[0]], backend="bogus")
    for width in (0.0, -5.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="band_minutes must be a finite number > 0"):
            evaluate_networks(mat, [[0]], band_minutes=width)
    with pytest.raises(ValueError, match=r"networks\[1\] must list whole candidate indices"):
        evaluate_networks(mat, [[0], [0, 1.5]])  # 1.5 used to be truncated to 1
    with pytest.raises(ValueError, match=r"networks\[0\] must list whole"):
        evaluate_networks(mat, [np.array([True, False])])  # a mask, not indices
    with pytest.raises(ValueError, match=r"networks\[1\]\[1\] = 7 is not a candidate index"):
        evaluate_networks(mat, [[0], [1, 7]])
    # The accepted forms are unchanged: rows of a 2-D array, entries of a 1-D array.
    by_rows = evaluate_networks(mat, np.array([[0], [1]]), backend="numba")
    by_entries = evaluate_networks(mat, np.array([0, 1]), backend="numba")
    by_list = evaluate_networks(mat, [[0], [1.0]], backend="numba")
    for other in (by_entries, by_list):
        np.testing.assert_array_equal(other.counts, by_rows.counts)
    monkeypatch.setattr(_backend, "_rust_core", None)
    with pytest.raises(ImportError, match="backend='rust' was requested"):
        evaluate_networks(mat, [[0]], backend="rust")


# ---------------------------------------------------------------------- the saved matrix
def test_old_module_paths_re_export_the_package():
    import hexaccess._optimise_kernels as old_kernels
    import hexaccess.coverage as old
    from hexaccess import optimise
    from hexaccess.optimise import _kernels

    names = ("CoverageMatrix", "coverage_matrix", "evaluate_networks", "NetworkEvaluation",
             "candidates_from_cells", "candidate_frame", "ByCell", "DEFAULT_CUTOFF_S")  # fmt: skip
    for name in names:
        assert getattr(old, name) is getattr(optimise, name)
    assert old_kernels.transpose_sorted is _kernels.transpose_sorted


def test_save_writes_a_manifest_that_load_verifies(tmp_path):
    from hexaccess.errors import CorruptOutputError, OutputError
    from hexaccess.outputs import verify_output

    mat = _small()
    mat.save(tmp_path / "m")
    manifest = verify_output(tmp_path / "m", kind="coverage-matrix")
    assert sorted(f["path"] for f in manifest["files"]) == [
        "candidates.parquet", "cells.parquet", "entries.parquet"
    ]  # fmt: skip
    mat.save(tmp_path / "m")  # an earlier matrix is replaced
    # Someone's own files are not.
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not from a hexaccess run"):
        mat.save(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    # A matrix saved before manifests existed: refused by load, read with verify=False,
    # replaced by save.
    (tmp_path / "m" / "manifest.json").unlink()
    with pytest.raises(CorruptOutputError, match=r"has no manifest\.json"):
        CoverageMatrix.load(tmp_path / "m")
    np.testing.assert_array_equal(CoverageMatrix.load(tmp_path / "m", verify=False).time, mat.time)
    mat.save(tmp_path / "m")
    verify_output(tmp_path / "m", kind="coverage-matrix")


def _cache_call(access, cache, cutoff_s, messages):
    from hexaccess.optimise import cached_or_new_matrix

    key = {"engine": "hexaccess", "inputs": {}, "settings": {"test": "cache"}}
    return cached_or_new_matrix(
        access, cache_dir=cache, provenance_key=key, cutoff_s=cutoff_s, log=messages.append
    )


def _same_matrix(a, b):
    for name in ("indptr", "cell", "time", "distance_m"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_a_cache_mixing_two_saves_is_rebuilt_not_loaded(access, tmp_path):
    import shutil

    from hexaccess.errors import CorruptOutputError, InputError

    said: list[str] = []
    first = _cache_call(access, tmp_path / "a", 900.0, said)
    assert said[-1] == f"saved the coverage matrix to {tmp_path / 'a'}"
    _same_matrix(_cache_call(access, tmp_path / "a", 900.0, said), first)
    assert said[-1].startswith("loaded CoverageMatrix")
    _cache_call(access, tmp_path / "b", 1800.0, said)
    shutil.copy(tmp_path / "b" / "cells.parquet", tmp_path / "a" / "cells.parquet")
    with pytest.raises(CorruptOutputError, match=r"cells\.parquet"):
        CoverageMatrix.load(tmp_path / "a")
    with pytest.raises(InputError, match="come from different saves"):
        CoverageMatrix.load(tmp_path / "a", verify=False)
    said.clear()
    rebuilt = _cache_call(access, tmp_path / "a", 900.0, said)
    assert "does not match its manifest" in said[0] and "cells.parquet" in said[0]
    assert said[-1].startswith("saved the coverage matrix")
    _same_matrix(rebuilt, first)
    _same_matrix(CoverageMatrix.load(tmp_path / "a"), first)  # the cache is whole again


def test_a_cache_with_a_flipped_byte_is_rebuilt(access, tmp_path):
    said: list[str] = []
    first = _cache_call(access, tmp_path / "c", 900.0, said)
    entries = tmp_path / "c" / "entries.parquet"
    data = bytearray(entries.read_bytes())
    data[len(data) // 2] ^= 0x01
    entries.write_bytes(bytes(data))
    said.clear()
    _same_matrix(_cache_call(access, tmp_path / "c", 900.0, said), first)
    assert "entries.parquet" in said[0] and said[0].endswith("recomputing")
    assert said[-1].startswith("saved the coverage matrix")
    # A different cutoff is a different matrix: rebuilt, saying why.
    said.clear()
    _cache_call(access, tmp_path / "c", 600.0, said)
    assert "differs in --cutoff; recomputing" in said[0]


def test_a_cache_dir_that_is_a_file_is_a_clear_error(access, tmp_path):
    from hexaccess.errors import OutputError

    (tmp_path / "cache").write_text("not a directory")
    with pytest.raises(OutputError, match="is a file, not a directory"):
        _cache_call(access, tmp_path / "cache", 900.0, [])
    with pytest.raises(FileNotFoundError, match="is a file, not a coverage-matrix directory"):
        CoverageMatrix.load(tmp_path / "cache")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not from a hexaccess run"):
        _cache_call(access, tmp_path / "mine", 900.0, [])
