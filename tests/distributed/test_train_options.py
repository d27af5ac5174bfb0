"""coordinate --evaluator train: options checked before a study exists; full recipe stored."""

from __future__ import annotations

import optuna
import pytest

from predictor_nas.cli import main
from predictor_nas.distributed import (
    CONFIG_ATTR,
    HeartbeatSettings,
    open_storage,
    run_coordinator,
)
from predictor_nas.training import TrainConfig


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("epochs=-1", "The 'epochs' parameter of the train evaluator must be an int >= 1. "
                      "Got -1 instead."),
        ("lr=0", "The 'lr' parameter of the train evaluator must be a finite float > 0.0. "
                 "Got 0 instead."),
    ],
)  # fmt: skip
def test_coordinate_refuses_a_bad_train_option_before_creating_the_study(
    tmp_path, capsys, option, message
):
    """A bad --evaluator-option value exits 2 with one line, and no study file is written."""
    journal = tmp_path / "c.journal"
    rc = main(["coordinate", "--storage", str(journal), "--evaluator", "train",
               "--dataset", "digits", "--evaluator-option", option])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and "Traceback" not in err
    assert not journal.exists()


def test_study_stores_the_full_training_recipe(tmp_path):
    """The study's evaluator_options hold every TrainConfig field (defaults filled in)."""
    spec = str(tmp_path / "r.journal")
    run_coordinator(spec, study_name="recipe", evaluator="train", dataset="digits",
                    strategy="random", budget=1, queue_size=1, max_seconds=0.5,
                    evaluator_options={"epochs": 2, "device": "cpu"})  # fmt: skip
    study = optuna.load_study(study_name="recipe", storage=open_storage(spec, HeartbeatSettings()))
    opts = study.user_attrs[CONFIG_ATTR]["evaluator_options"]
    assert opts == {**TrainConfig(epochs=2).to_dict(), "device": "cpu"}


@pytest.mark.slow
def test_workers_train_a_space_declared_in_a_yaml_file(tmp_path):
    """coordinate --space FILE.yaml --evaluator train: the study keeps the file, workers read
    the space from it and train its networks (no NB201-only refusal)."""
    from predictor_nas.distributed import run_worker
    from predictor_nas.spaces import load_space, unregister_space

    yaml_file = tmp_path / "three_ops.yaml"
    yaml_file.write_text(
        "name: three_ops_dist\nkind: cell_edges\nnodes: 3\n"
        "ops: [none, skip_connect, conv_3x3]\nzero_ops: [none]\nidentity_ops: [skip_connect]\n"
    )
    spec = str(tmp_path / "d.journal")
    opts = {"epochs": 1, "width": 4, "depth": 1, "batch_size": 128, "num_threads": 1}
    try:
        run_coordinator(spec, study_name="declared", space=str(yaml_file), evaluator="train",
                        dataset="digits", strategy="random", budget=2, queue_size=2,
                        max_seconds=0.5, evaluator_options=opts)  # fmt: skip
        storage = open_storage(spec, HeartbeatSettings())
        config = optuna.load_study(study_name="declared", storage=storage).user_attrs[CONFIG_ATTR]
        assert config["space"] == "three_ops_dist"
        assert config["space_file"] == str(yaml_file.resolve())
        unregister_space("three_ops_dist")  # a worker elsewhere knows only the study
        r = run_worker(spec, study_name="declared", max_trials=2, idle_timeout=0.0)
        assert r.n_evaluated == 2, r
        study = optuna.load_study(study_name="declared", storage=storage)
        done = [t for t in study.trials if t.state.name == "COMPLETE"]
        space = load_space(yaml_file)
        assert len(done) == 2 and all(0 < t.value <= 100 for t in done)
        assert all(space.parse(t.user_attrs["arch"]) for t in done)
    finally:
        unregister_space("three_ops_dist")
