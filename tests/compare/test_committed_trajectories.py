"""The committed NB201 comparison reproduces: a sample of its cached runs, rerun with today's
code, gives the same trajectories bit for bit (the refactors of spaces, encodings and samplers
must not move a committed number)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

RUNS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "compare_nb201"
#: (strategy, dataset, seed): every proposal-based strategy, two datasets, two seeds.
SAMPLE = [
    ("random", "cifar10", 0),
    ("grid", "cifar100", 1),
    ("rea", "cifar10", 0),
    ("reinforce", "ImageNet16-120", 1),
    ("tpe", "cifar10", 1),
    ("ls", "cifar100", 0),
    ("guided", "cifar10", 0),
    ("guided", "ImageNet16-120", 1),
    ("zc-ls", "cifar100", 1),
    ("guided-zc", "ImageNet16-120", 0),
]


#: Fitting strategies (10-30 s a run here): in the slow run.
SLOW = {"tpe", "guided", "zc-ls", "guided-zc"}


def _cached() -> dict[tuple[str, str, int], dict]:
    out = {}
    with gzip.open(RUNS / "runs.jsonl.gz", "rt") as f:
        for line in f:
            run = json.loads(line)["run"]
            out[(run["strategy"], run["dataset"], run["seed"])] = run
    return out


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("strategy", "dataset", "seed"),
    [
        pytest.param(*case, marks=pytest.mark.slow) if case[0] in SLOW else case
        for case in SAMPLE
    ],
)
def test_cached_nb201_runs_reproduce_bit_for_bit(rich_in_cache, strategy, dataset, seed):
    """run_search today gives the committed run's arch and every trajectory value exactly."""
    from predictor_nas.search import run_search

    ref = _cached()[(strategy, dataset, seed)]
    r = run_search(
        space="nb201",
        table="nb201-rich",
        dataset=dataset,
        strategy=strategy,
        budget=ref["budget"],
        seed=seed,
        storage=None,
    )
    assert r.best_arch == ref["best_arch"]
    assert r.trajectory_regret_val == ref["trajectory_regret_val"]
    assert r.trajectory_val == ref["trajectory_val"]
    assert r.trajectory_test == ref["trajectory_test"]
