"""Issue 16's seed example: the conv/pool layer chain declared in YAML searches with real
training on digits from the CLI (predictor-in-the-loop top-k with the curve pruner), and
`predictor-nas train` retrains and saves the winner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from predictor_nas.cli import main
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.search import run_real_search
from predictor_nas.spaces import get_space, shipped_spaces_dir


def test_layer_chain_yaml_searches_with_real_training_then_trains_the_winner(
    tmp_path, monkeypatch, capsys
):
    """search --space layer_chain.yaml --evaluator train, then train the best arch and save it."""
    monkeypatch.chdir(tmp_path)
    yaml_file = str(shipped_spaces_dir() / "layer_chain.yaml")
    rc = main(
        [
            "search",
            "--space",
            yaml_file,
            "--evaluator",
            "train",
            "--dataset",
            "digits",
            "--strategy",
            "topk",
            "--budget",
            "6",
            "--top-k",
            "3",
            "--epochs",
            "2",
            "--seed",
            "0",
            "--json",
            "--no-progress",
            "--storage",
            "s.journal",
        ]
    )
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_trained"] == 6 and result["best_val"] > 50.0
    space = get_space("layer_chain")
    best = space.parse(result["best_arch"])
    # every proposal fits 8x8 digits: the builder's shape rule is a constraint of the search
    assert Path("s.journal.checkpoints").is_dir()
    rc = main(
        [
            "train",
            "--space",
            "layer_chain",
            "--arch",
            str(best),
            "--dataset",
            "digits",
            "--epochs",
            "2",
            "--seed",
            "0",
            "--out",
            "winner",
            "--json",
        ]
    )
    assert rc == 0
    saved = json.loads(Path("winner/arch.json").read_text())
    assert saved["arch"] == str(best) and Path("winner/model.pt").is_file()


def test_collapsing_chain_archs_are_never_proposed_on_small_images():
    """On 8x8 images the evaluator's space refuses chains that shrink the image below a pixel."""
    from predictor_nas.evaluators import TrainEvaluator
    from predictor_nas.training import load_digits_data

    ev = TrainEvaluator(load_digits_data(0), space="layer_chain", epochs=1)
    archs = [ev.space.sample(s) for s in range(60)]
    assert all(ev.space.violated(ev.space.values(a)) is None for a in archs)
    raw = get_space("layer_chain")
    collapsing = [raw.sample(s) for s in range(200)]
    assert any(ev.space.violated(raw.values(a)) is not None for a in collapsing)


@pytest.mark.slow
def test_proxy_warm_start_ranks_round_zero_on_a_declared_space(tmp_path):
    """warm_start='proxies' works on a declared space: round 0 trains the proxies' top picks."""
    import optuna

    from predictor_nas.search import make_storage

    storage = str(tmp_path / "s.journal")
    r = run_real_search(
        space="tiny_cell", warm_start="proxies", max_trials=4, top_k=2, n_init=2, seed=0,
        width=4, depth=1, epochs=1, prune=False, batch_size=128, num_threads=1, pool_size=20,
        storage=storage,
    )  # fmt: skip
    assert r.n_trained == 4 and get_space("tiny_cell").parse(r.best_arch)
    study = optuna.load_study(study_name=r.study_name, storage=make_storage(storage))
    scores = [p["pred_mean"] for p in study.user_attrs["plan_0"]]
    assert all(s is not None for s in scores) and scores == sorted(scores, reverse=True)


def test_table_warm_start_of_another_space_is_refused_naming_both():
    """A table prior must be a table of the searched space; the error names table and space."""
    with pytest.raises(InvalidParameterError, match=r"'warm_start'.*'tiny_cell'.*nb201"):
        run_real_search(space="tiny_cell", warm_start="nb201", max_trials=1, epochs=1, prune=False)
