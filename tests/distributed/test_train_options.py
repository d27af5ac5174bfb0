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
