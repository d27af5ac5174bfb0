"""run_oneshot_search and `predictor-nas search --evaluator train --strategy darts|gdas|spos`."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from predictor_nas.cli import main  # noqa: E402
from predictor_nas.exceptions import InvalidParameterError  # noqa: E402
from predictor_nas.oneshot import ONESHOT_STRATEGIES, run_oneshot_search  # noqa: E402
from predictor_nas.spaces import NB201_OPS, get_space  # noqa: E402
from predictor_nas.training import from_arrays, load_digits_data  # noqa: E402

SPACE = get_space("nb201")


@pytest.fixture(scope="module")
def tiny():
    """A 240 / 120 / 120 image subset of digits."""
    d = load_digits_data(0)
    return from_arrays(d.x_train[:240], d.y_train[:240], d.x_val[:120], d.y_val[:120],
                       d.x_test[:120], d.y_test[:120], num_classes=10, name="digits-tiny")


@pytest.mark.parametrize("strategy", ["darts", "gdas"])
def test_darts_and_gdas_train_the_argmax_cell_stand_alone(tiny, strategy, tmp_path):
    """DARTS / GDAS pick the argmax cell of their final alphas, train it stand-alone and report
    its test accuracy; a rerun from the checkpoints gives the same result."""
    kw = dict(data=tiny, supernet_epochs=1, final_epochs=1, width=4, batch_size=32, seed=0,
              num_threads=1, checkpoint_dir=tmp_path)
    r = run_oneshot_search(strategy, **kw)
    last = torch.tensor(r.supernet["alphas"][-1])
    assert r.arch == SPACE.format(SPACE.make([NB201_OPS[i] for i in last.argmax(-1).tolist()]))
    assert r.candidates == [] and len(r.val_acc) == 1 and r.test_acc is not None
    assert 0 <= r.inherited_acc <= 100 and r.model.arch == SPACE.parse(r.arch)
    again = run_oneshot_search(strategy, **kw)
    assert again.arch == r.arch and again.val_acc == r.val_acc
    assert again.test_acc == r.test_acc and again.supernet["resumed_from"] == 1


def test_spos_searches_the_supernet_with_rea(tiny):
    """SPOS scores n_candidates rea proposals by inherited accuracy, picks the best, trains it;
    the same seed gives the same proposals and pick."""
    kw = dict(data=tiny, supernet_epochs=1, final_epochs=1, width=4, batch_size=32, seed=1,
              num_threads=1, n_candidates=15, bn_recalibration_batches=2)
    r = run_oneshot_search("spos", **kw)
    assert len(r.candidates) == 15
    best = max(c["inherited_acc"] for c in r.candidates)
    assert r.inherited_acc == best
    assert r.arch == next(c["arch"] for c in r.candidates if c["inherited_acc"] == best)
    assert len({c["arch"] for c in r.candidates}) > 10  # rea explores, no wasted repeats
    assert r.test_acc is not None and r.supernet["alphas"] == []
    again = run_oneshot_search("spos", **kw)
    assert again.candidates == r.candidates and again.arch == r.arch


def test_bad_strategy_and_settings_are_refused(tiny):
    """An unknown strategy or sampler, or n_candidates < 1, raise with the standard message."""
    assert ONESHOT_STRATEGIES == ("darts", "gdas", "spos")
    with pytest.raises(InvalidParameterError, match=r"The 'strategy' parameter of "
                       r"run_oneshot_search must be one of 'darts', 'gdas', 'spos'\. Got 'enas'"):
        run_oneshot_search("enas", data=tiny)
    with pytest.raises(InvalidParameterError, match=r"'sampler' parameter"):
        run_oneshot_search("spos", data=tiny, sampler="hill")
    with pytest.raises(InvalidParameterError, match=r"'n_candidates' parameter"):
        run_oneshot_search("spos", data=tiny, n_candidates=0)


def test_cli_search_spos_on_digits(capsys):
    """`search --evaluator train --strategy spos` prints JSON with the chosen cell, its candidates
    and its stand-alone test accuracy."""
    rc = main(["search", "--evaluator", "train", "--strategy", "spos", "--dataset", "digits",
               "--epochs", "1", "--width", "4", "--budget", "5", "--threads", "1", "--json"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["strategy"] == "spos" and len(d["candidates"]) == 5
    assert SPACE.parse(d["arch"]) and 0 <= d["test_acc"] <= 100


def test_cli_refuses_bad_strategy_and_unused_options(capsys):
    """An unknown strategy lists the one-shot ones too; options of the topk loop are refused."""
    assert main(["search", "--evaluator", "train", "--strategy", "enas", "--dataset",
                 "digits"]) == 2
    err = capsys.readouterr().err
    assert "'topk'" in err and "'darts', 'gdas', 'spos'. Got 'enas'" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["search", "--evaluator", "train", "--strategy", "darts", "--dataset", "digits",
                 "--top-k", "3"]) == 2
    assert "--top-k is not used by the one-shot strategy 'darts'" in capsys.readouterr().err
