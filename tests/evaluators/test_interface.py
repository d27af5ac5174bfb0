"""One evaluator interface: kinds, registry, evaluate at a fidelity with metrics and cost."""

from __future__ import annotations

import numpy as np
import pytest

import predictor_nas.distributed as distributed
import predictor_nas.multifidelity as multifidelity
from predictor_nas.evaluators import (
    KINDS,
    Evaluation,
    Evaluator,
    FidelityEvaluator,
    TableEvaluator,
    TableFidelityEvaluator,
    TrainEvaluator,
    evaluator_classes,
    evaluator_summaries,
    register_evaluator_class,
)
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.tables import open_table

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|"


@pytest.fixture(scope="module")
def rich(rich_table_path):
    """The nb201-rich table (12- and 200-epoch values)."""
    return open_table(rich_table_path)


def test_registry_lists_every_kind():
    """The registry maps names to Evaluator subclasses covering the four kinds."""
    classes = evaluator_classes()
    assert list(classes) == [
        "table", "nb301-surrogate", "table-fidelity", "surrogate-fidelity", "train"
    ]  # fmt: skip
    assert all(issubclass(c, Evaluator) and c.kind in KINDS for c in classes.values())
    assert {c.kind for c in classes.values()} == set(KINDS)
    rows = evaluator_summaries()
    assert rows[0] == {
        "name": "table",
        "kind": "table",
        "class": "predictor_nas.evaluators.TableEvaluator",
        "summary": "Evaluate architectures by looking them up in a table.",
    }
    assert all(r["summary"] for r in rows)


def test_register_evaluator_class_checks_its_arguments():
    """Names must be new, classes must be Evaluator subclasses of a known kind."""
    with pytest.raises(InvalidParameterError, match=r"'name' parameter of register_evaluator_class"):
        register_evaluator_class("table", TableEvaluator)
    with pytest.raises(InvalidParameterError, match=r"'cls' parameter of register_evaluator_class"):
        register_evaluator_class("duck", dict)


def test_old_package_faces_re_export_the_same_objects():
    """multifidelity and distributed re-export the evaluators package's classes and functions."""
    assert multifidelity.FidelityEvaluator is FidelityEvaluator
    assert multifidelity.TableFidelityEvaluator is TableFidelityEvaluator
    assert distributed.Evaluator is Evaluator
    from predictor_nas.evaluators import make_evaluator, register_evaluator

    assert distributed.make_evaluator is make_evaluator
    assert distributed.register_evaluator is register_evaluator


def test_plain_objects_with_evaluate_and_direction_are_evaluators():
    """isinstance(obj, Evaluator) holds for any object with evaluate and direction (workers)."""

    class Duck:
        direction = "maximize"

        def evaluate(self, arch):
            return Evaluation(value=1.0)

    assert isinstance(Duck(), Evaluator)
    assert not isinstance(object(), Evaluator)


def test_table_evaluator_evaluates_at_a_fidelity(rich):
    """TableEvaluator reports value, metrics and cost at its fidelity or at one asked for."""
    ev = TableEvaluator(rich, "cifar10")
    top = ev.evaluate(ARCH)
    assert top.fidelity == 200 and ev.direction == "maximize"
    assert top.value == pytest.approx(rich.query(ARCH, "val_acc", dataset="cifar10", fidelity=200))
    low = ev.evaluate(ARCH, fidelity=12)
    assert low.fidelity == 12
    assert low.value == pytest.approx(rich.query(ARCH, "val_acc", dataset="cifar10", fidelity=12))
    assert low.cost == pytest.approx(rich.cost(ARCH, dataset="cifar10", fidelity=12))
    assert low.cost < top.cost
    assert ev.describe()["kind"] == "table" and ev.describe()["fidelity"] == 200
    with pytest.raises(InvalidParameterError, match=r"'fidelity' parameter of TableEvaluator\."
                       r"evaluate must be one of \[12, 200\].*Got 13 instead"):  # fmt: skip
        ev.evaluate(ARCH, fidelity=13)


def test_fidelity_evaluator_evaluate_is_observe(rich):
    """A fidelity evaluator's evaluate(arch, f) is observe([arch], f) as an Evaluation."""
    ev = TableFidelityEvaluator(rich, "cifar10")
    arch = ev.space.parse(ARCH)
    for f in (12, 200, None):
        obs = ev.observe([arch], 200 if f is None else f)[0]
        e = ev.evaluate(ARCH, f)
        assert (e.value, e.cost, e.fidelity) == (obs.value, obs.cost_total, obs.fidelity)
        assert e.metrics == {"val_acc": obs.value}
    assert ev.kind == "fidelity" and ev.direction == "maximize"
    assert ev.describe()["kind"] == "table"  # the value stored with multi-fidelity studies
    with pytest.raises(InvalidParameterError, match=r"'fidelity' parameter of "
                       r"TableFidelityEvaluator\.observe must be one of \[12, 200\]"):  # fmt: skip
        ev.evaluate(ARCH, 50)


def test_train_evaluator_reports_its_fidelity_and_recipe():
    """TrainEvaluator: fidelity = epochs run; describe() holds kind and the training recipe."""
    from predictor_nas.training import load_digits_data

    ev = TrainEvaluator(load_digits_data(0), width=4, depth=1, epochs=1, batch_size=128,
                        num_threads=1)  # fmt: skip
    r = ev.evaluate(ARCH)
    assert r.fidelity == r.epochs_run == 1 and r.value == r.metrics["val_acc"]
    assert r.cost > 0 and np.isfinite(r.value)
    d = ev.describe()
    assert d["kind"] == "train" and (d["width"], d["epochs"], d["lr"]) == (4, 1, 0.1)


def test_cli_lists_the_registry(capsys):
    """predictor-nas evaluators prints every registered evaluator; --json gives the rows."""
    import json

    from predictor_nas.cli import main

    assert main(["evaluators"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines] == list(evaluator_classes())
    assert lines[-1].split() == ["train", "train", "predictor_nas.evaluators.TrainEvaluator",
                                 "(coordinate)"]  # fmt: skip
    assert main(["evaluators", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows if r["coordinate"]] == ["table", "nb301-surrogate", "train"]
