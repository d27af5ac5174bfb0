"""SupernetPrior: an SPOS supernet's inherited-weight accuracy ranks the real search's round 0."""

from __future__ import annotations

import json
import re

import numpy as np
import optuna
import pytest

from predictor_nas.cli import main
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.oneshot import SupernetPrior, inherited_accuracy
from predictor_nas.search import make_storage, run_real_search
from predictor_nas.search._real import CONFIG_ATTR, default_checkpoint_dir
from predictor_nas.spaces import get_space
from predictor_nas.training import load_digits_data

SMALL = dict(width=4, depth=1, epochs=1, batch_size=128, num_threads=1)
TINY = dict(width=4, depth=1, epochs=2, batch_size=128, num_threads=1, pool_size=30)


@pytest.fixture(scope="module")
def digits():
    return load_digits_data(0)


def _archs(n: int) -> list:
    space = get_space("nb201")
    return [space.sample(np.random.default_rng([7, i])) for i in range(n)]


def test_scores_are_inherited_accuracies_and_the_checkpoint_is_reused(digits, tmp_path):
    """score() is inherited_accuracy of each arch in the trained supernet (BN recalibrated),
    -inf past max_scored; a second prior on the same checkpoint loads it without training."""
    ckpt = tmp_path / "sp.pt"
    prior = SupernetPrior(digits, max_scored=4, checkpoint=ckpt, **SMALL)
    archs = _archs(5)
    s = prior.score(archs)
    expected = [
        inherited_accuracy(prior.supernet, a, digits, bn_recalibration_batches=4,
                           batch_size=128, seed=0)
        for a in archs[:4]
    ]
    assert s[:4].tolist() == expected and s[4] == -np.inf
    assert len(set(expected)) > 1 and all(0 <= v <= 100 for v in expected)
    mtime = ckpt.stat().st_mtime_ns
    again = SupernetPrior(digits, max_scored=4, checkpoint=ckpt, **SMALL)
    assert again.score(archs).tolist() == s.tolist()
    assert ckpt.stat().st_mtime_ns == mtime  # loaded, not retrained
    assert prior.features is None
    feat = SupernetPrior(digits, as_feature=True, checkpoint=ckpt, **SMALL)
    assert feat.features is feat and feat.names == ["supernet_spos_acc"]
    assert feat.transform(archs).shape == (5, 1) and feat.transform(archs).dtype == np.float32
    assert prior.describe() == "supernet:spos/nb201/w4d1/e1/b128/lr0.025/seed0/bn4/first4"


def test_real_search_ranks_round_zero_by_the_supernet(digits, tmp_path):
    """warm_start=SupernetPrior: round 0 trains the pool's best by inherited accuracy, the
    supernet is checkpointed beside the study's checkpoints and a resume reuses it."""
    storage = str(tmp_path / "s.journal")
    prior = SupernetPrior(digits, **SMALL)
    r = run_real_search(data=digits, warm_start=prior, max_trials=2, top_k=2, n_init=2, seed=0,
                        storage=storage, **TINY)
    assert r.n_trained == 2
    ckpt = default_checkpoint_dir(storage, r.study_name) / prior.checkpoint_name()
    assert prior.checkpoint == ckpt and ckpt.exists()
    study = optuna.load_study(study_name=r.study_name, storage=make_storage(storage))
    assert study.user_attrs[CONFIG_ATTR]["warm_start"] == prior.describe()
    plan = study.user_attrs["plan_0"]
    space = get_space("nb201")
    fresh = SupernetPrior(digits, checkpoint=ckpt, **SMALL)
    got = fresh.score([space.parse(it["arch"]) for it in plan])
    assert [it["pred_mean"] for it in plan] == got.tolist()
    assert plan[0]["pred_mean"] >= plan[1]["pred_mean"]
    scored = list(prior._cache.values())  # every pool arch was scored; the picks are its best
    assert len(scored) == TINY["pool_size"] and plan[0]["pred_mean"] == max(scored)
    mtime = ckpt.stat().st_mtime_ns
    r2 = run_real_search(data=digits, warm_start=SupernetPrior(digits, **SMALL), max_trials=3,
                         top_k=2, n_init=2, seed=0, storage=storage, **TINY)
    assert r2.resumed_from == 2 and r2.n_trained == 3 and ckpt.stat().st_mtime_ns == mtime


def test_bad_supernet_prior_settings_raise(digits):
    """Wrong data, sizes and flags are refused with the standard message."""
    with pytest.raises(InvalidParameterError, match="'data' parameter of SupernetPrior"):
        SupernetPrior("digits")
    with pytest.raises(InvalidParameterError, match=re.escape(
        "The 'epochs' parameter of SupernetPrior must be an int >= 1. Got 0"
    )):
        SupernetPrior(digits, epochs=0)
    with pytest.raises(InvalidParameterError, match="'as_feature' parameter"):
        SupernetPrior(digits, as_feature=1)


@pytest.mark.slow
def test_cli_search_with_supernet_warm_start_and_inheritance(capsys, tmp_path):
    """`search --evaluator train --warm-start supernet --inherit-weights` runs end to end and
    records each trial's parent; --inherit-weights without --evaluator train exits 2."""
    storage = str(tmp_path / "c.journal")
    code = main([
        "search", "--evaluator", "train", "--dataset", "digits", "--budget", "5",
        "--epochs", "2", "--width", "4", "--top-k", "2", "--pool-size", "30", "--threads", "1",
        "--warm-start", "supernet", "--inherit-weights", "--storage", storage, "--json",
    ])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_trained"] == 5
    study = optuna.load_study(study_name=out["study_name"], storage=make_storage(storage))
    config = study.user_attrs[CONFIG_ATTR]
    assert config["warm_start"].startswith("supernet:spos/nb201/w4d1/e20/")
    assert config["evaluator"]["inherit_weights"] == 2
    attrs = [t.user_attrs for t in study.trials]
    assert all("inherited_tensors" in a for a in attrs)
    assert attrs[0]["inherit_parent"] is None
    assert main(["search", "--inherit-weights", "--storage", "memory"]) == 2
    assert "--inherit-weights is only for real training" in capsys.readouterr().err


def test_supernet_prior_as_a_predictor_feature(digits):
    """as_feature=True: later rounds fit the predictor with the inherited accuracy as an extra
    input (every pool arch and every trained arch is scored)."""
    prior = SupernetPrior(digits, as_feature=True, **SMALL)
    r = run_real_search(data=digits, warm_start=prior, max_trials=3, top_k=1, n_init=2, seed=0,
                        prune=False, **TINY)
    assert r.n_trained == 3 and r.rounds == 2
    assert len(prior._cache) >= 2 * TINY["pool_size"] - 2  # round 0's and round 1's pools
