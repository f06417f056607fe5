"""Synthetic countries: determinism, exact totals, size scaling, unreachable people, and
that the real pipelines run on them unchanged."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from hexaccess import accessibility, country, hexgrid

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SMALL = 200_000


@pytest.fixture(scope="module")
def small():
    return country.generate_country(SMALL, seed=7)


def test_parameter_file_is_shipped_and_is_the_default():
    # The installed package carries the file; the repository's data/ links to it.
    assert country.PARAMS_FILE.exists()
    with open(country.PARAMS_FILE, "rb") as f:
        assert tomllib.load(f) == country.DEFAULT_PARAMS == country.load_params()
    repo_copy = Path(__file__).resolve().parents[2] / "data" / "synthetic_country.toml"
    if repo_copy.exists():  # running from a source checkout
        assert repo_copy.read_bytes() == country.PARAMS_FILE.read_bytes()


def test_same_seed_gives_identical_arrays(small):
    again = country.generate_country(SMALL, seed=7)
    a, b = small.population.frame, again.population.frame
    np.testing.assert_array_equal(a.index.to_numpy(), b.index.to_numpy())
    np.testing.assert_array_equal(a["total"].to_numpy(), b["total"].to_numpy())
    np.testing.assert_array_equal(a["age_65_plus"].to_numpy(), b["age_65_plus"].to_numpy())
    for name in ("x", "y", "tail", "head", "time_s", "length_m", "road_class"):
        np.testing.assert_array_equal(getattr(small.roads, name), getattr(again.roads, name))
    np.testing.assert_array_equal(small.offices.lon, again.offices.lon)
    other = country.generate_country(SMALL, seed=8)
    assert not np.array_equal(
        other.population.frame["total"].to_numpy()[:100], a["total"].to_numpy()[:100]
    )


def test_totals_age_structure_and_municipalities(small):
    pop = small.population
    assert pop.total("total") == SMALL  # exact
    share65 = pop.total("age_65_plus") / SMALL
    assert 0.15 < share65 < 0.35
    assert (pop.frame["age_65_plus"] <= pop.frame["total"]).all()
    muni = pop.municipality_totals("total")
    assert muni["total"].sum() == SMALL
    assert len(muni) == len(small.municipalities) or len(muni) > 0.8 * len(small.municipalities)
    # Road hierarchy: all four classes present, motorways fastest.
    classes = set(np.unique(small.roads.road_class).tolist())
    assert classes == {21, 22, 23, 26}
    speed = small.roads.length_m / small.roads.time_s * 3.6
    assert speed[small.roads.road_class == 26].min() > speed[small.roads.road_class == 21].max()
    # Dense south: more people in the southern half than in the northern one.
    _, lat = pop.centers_lonlat()
    w = pop.frame["total"].to_numpy()
    mid = (lat.min() + lat.max()) / 2
    assert w[lat < mid].sum() > 2 * w[lat >= mid].sum()
    # Town sizes follow a rank-size law: the largest is far bigger than the tenth.
    people = small.towns["people"].to_numpy()
    assert people[0] / people[9] == pytest.approx(10**1.07, rel=1e-9)


def test_size_scales_from_100k_to_millions():
    sizes = [100_000, 1_000_000]
    made = [country.generate_country(n, seed=1) for n in sizes]
    for n, c in zip(sizes, made, strict=True):
        assert c.population.total("total") == n
    area = [c.params["_generated"]["area_km2"] for c in made]
    exp = country.DEFAULT_PARAMS["area_exponent"]
    assert area[1] / area[0] == pytest.approx(10**exp, rel=1e-9)
    assert len(made[1].population) > len(made[0].population)
    assert made[1].roads.num_edges > made[0].roads.num_edges


def test_pipelines_run_unchanged_and_some_people_are_unreachable(small):
    offices = small.offices.subset(small.offices.fixed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        road = accessibility.solve(
            accessibility.build_access_graph(small.roads, small.population, offices)
        )
        hexa = hexgrid.build_hex_access(
            small.roads, small.population, offices, resolution=8, water=small.water
        ).solve()
    for s in (road.summary(), hexa.summary()):
        assert s["population_total"] == pytest.approx(SMALL)
        assert 0 < s["population_unreachable"] < 0.1 * SMALL
        assert 0 < s["mean_time_min"] < 180
    # The hexagon graph keeps lakes out of the graph.
    assert hexa.access.hex.meta["water_cells_masked"] > 0


def test_default_scenario_is_the_50_office_national_default():
    params = country.load_params()
    assert params["people"] == 5_400_000
    assert params["offices"]["fixed"] + 32 == params["offices"]["total"] == 50


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"people": float("nan")},
            r"people must be a whole number in 1,000\.\.200,000,000, got nan",
        ),
        ({"people": float("inf")}, "people must be a whole number .* got inf"),
        ({"people": 150_000.5}, "people must be a whole number .* got 150000.5"),
        ({"people": "many"}, "people must be a whole number .* got 'many'"),
        ({"people": True}, "people must be a whole number"),
        ({"people": 999}, r"people must be in 1,000\.\.200,000,000, got 999"),
        ({"people": 300_000_000}, "people must be in 1,000..200,000,000"),
        ({"seed": -1}, "seed must be >= 0, got -1"),
        ({"seed": float("nan")}, "seed must be a whole number >= 0, got nan"),
        ({"seed": 1.5}, "seed must be a whole number >= 0, got 1.5"),
        ({"params": country.load_params(seed=-3)}, r"params\['seed'\] must be >= 0"),
        (
            {"params": country.load_params(people=2.5e6 + 0.5)},
            r"params\['people'\] must be a whole",
        ),
    ],
)
def test_people_and_seed_are_checked_by_name(kwargs, match):
    # NaN used to fail inside int() without naming the argument, 150000.5 was truncated.
    with pytest.raises(ValueError, match=match):
        country.generate_country(**kwargs)


def test_integral_floats_are_whole_numbers_and_params_are_not_modified(small):
    params = country.load_params()
    before = repr(params)
    again = country.generate_country(float(SMALL), seed=7.0, params=params)
    assert repr(params) == before
    assert again.params["_generated"]["people"] == SMALL
    np.testing.assert_array_equal(
        again.population.frame["total"].to_numpy(), small.population.frame["total"].to_numpy()
    )
    np.testing.assert_array_equal(again.towns["lat"], small.towns["lat"])


def test_synthetic_package_is_the_home_and_country_the_old_path():
    from hexaccess import synthetic
    from hexaccess.errors import InputError, UnknownNameError
    from hexaccess.synthetic import country as new_country

    assert country.generate_country is synthetic.generate_country
    assert country.default_scenario is synthetic.default_scenario
    assert country.PARAMS_FILE == synthetic.PARAMS_FILE == new_country.PARAMS_FILE
    assert country.Scenario is synthetic.SyntheticScenario  # the old name still works
    assert synthetic.grid_network(3, 2).num_nodes == 6
    with pytest.raises(InputError, match="grid must be at least"):
        synthetic.grid_network(0, 2)
    with pytest.raises(UnknownNameError, match="unknown country parameter 'peeple'"):
        country.load_params(peeple=5)
    with pytest.raises(InputError, match=r"resolution must be in 0\.\.15"):
        country.generate_country(SMALL, seed=1, resolution=16)
