"""Weight inheritance: a child starts from its trained parent's weights for every unchanged part."""

from __future__ import annotations

import re

import optuna
import pytest
import torch

from predictor_nas.evaluators import TrainEvaluator
from predictor_nas.evaluators._inherit import (
    changed_edges,
    edge_prefixes,
    inherit_weights,
    nearest_parent,
)
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.training import load_digits_data

KW = dict(width=4, depth=1, epochs=2, batch_size=128, num_threads=1)
PARENT = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)
# edge 5 (2 -> 3): nor_conv_1x1 -> nor_conv_3x3, whose BN has the same shape at the same path
CHILD = PARENT.replace("nor_conv_1x1~2", "nor_conv_3x3~2")
FAR = "|avg_pool_3x3~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|skip_connect~2|"


@pytest.fixture(scope="module")
def digits():
    return load_digits_data(0)


@pytest.fixture(scope="module")
def trained(digits):
    """An evaluator (inheritance up to 2 edges) that trained PARENT."""
    ev = TrainEvaluator(digits, inherit_weights=2, **KW)
    ev.evaluate(PARENT)
    return ev


def test_one_changed_edge_inherits_every_other_tensor_exactly(trained):
    """A child 1 edge from the parent gets every parent tensor outside that edge bit for bit
    (parameters and BN buffers), and keeps its own initialisation on the changed edge."""
    ev = trained
    found = ev.find_parent(CHILD)
    assert found is not None and ev.space.format(found[0]) == PARENT
    parent_state = found[2]
    fresh = ev.build_network(CHILD).state_dict()
    net = ev.build_network(CHILD)
    changed = changed_edges(ev.space, ev.space.parse(CHILD), found[0])
    assert changed == [5]
    copied = inherit_weights(net, parent_state, changed)
    state = net.state_dict()
    on_edge = {n for n in state if n.startswith(tuple(edge_prefixes(net)[5]))}
    assert on_edge == {
        f"cells.{c}.edges.5.{m}" for c in (0, 2, 4) for m in (
            "1.weight", "2.weight", "2.bias", "2.running_mean", "2.running_var",
            "2.num_batches_tracked",
        )
    }
    assert set(copied) == set(state) - on_edge and len(copied) == len(state) - 18
    for name, t in state.items():
        expected = fresh[name] if name in on_edge else parent_state[name]
        assert torch.equal(t, expected), name
    assert "cells.0.edges.5.2.running_mean" not in copied  # same shape, but a changed edge
    r = ev.evaluate(CHILD)
    assert r.parent == PARENT and r.n_inherited == len(copied)


def test_arch_far_from_everything_trains_from_scratch(trained, digits):
    """An arch more than inherit_weights edges from every trained one starts from scratch:
    same curve as an evaluator without inheritance."""
    assert len(changed_edges(trained.space, trained.space.parse(FAR),
                             trained.space.parse(PARENT))) > 2
    assert trained.find_parent(FAR) is None
    r = trained.evaluate(FAR)
    plain = TrainEvaluator(digits, **KW).evaluate(FAR)
    assert r.parent is None and r.n_inherited == 0
    assert r.val_curve == plain.val_curve


def test_nearest_parent_prefers_fewest_edges_then_accuracy(trained):
    """The nearest trained arch wins; ties go to the higher accuracy, then the earlier one."""
    sp = trained.space
    child = sp.parse(CHILD)
    two = sp.parse(CHILD.replace("nor_conv_3x3~0|+|nor_conv_3x3~0", "nor_conv_1x1~0|+|none~0"))
    one_a = sp.parse(PARENT)
    one_b = sp.parse(CHILD.replace("skip_connect~0", "none~0"))
    assert nearest_parent(sp, child, [(two, 99.0), (one_a, 50.0), (one_b, 60.0)], 2) == (2, 1)
    assert nearest_parent(sp, child, [(one_a, 60.0), (one_b, 60.0)], 2) == (0, 1)
    assert nearest_parent(sp, child, [(two, 99.0)], 1) is None
    assert nearest_parent(sp, child, [(child, 99.0)], 2) is None


class _KilledError(Exception):
    """Stands for the process dying mid-training."""


class _KillAt(optuna.pruners.BasePruner):
    """A real Optuna pruner that raises when asked about ``step`` (a crash after that epoch's
    report, before its checkpoint)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def prune(self, study, trial) -> bool:
        if trial.last_step == self.step:
            raise _KilledError
        return False


def test_inherited_run_resumes_exactly(digits, tmp_path):
    """An inherited child killed mid-training resumes from its own checkpoint (the parent's is
    read with weights_only=True) and ends with the uninterrupted run's curve and weights."""
    kw = {**KW, "epochs": 3}
    straight = TrainEvaluator(digits, inherit_weights=1, checkpoint_dir=tmp_path / "a", **kw)
    straight.evaluate(PARENT)
    full = straight.evaluate(CHILD)
    ev = TrainEvaluator(digits, inherit_weights=1, checkpoint_dir=tmp_path / "b", **kw)
    ev.evaluate(PARENT)
    study = optuna.create_study(direction="maximize", pruner=_KillAt(2))
    trial = study.ask()
    with pytest.raises(_KilledError):
        ev.evaluate(CHILD, trial=trial, parent=PARENT)
    ckpt = ev.checkpoint_path(CHILD, PARENT)
    assert ckpt.name.endswith(f"-from{ev.space.index(ev.space.parse(PARENT))}.pt")
    assert torch.load(ckpt, weights_only=True)["epoch"] == 1
    fresh = TrainEvaluator(digits, inherit_weights=1, checkpoint_dir=tmp_path / "b", **kw)
    again = fresh.evaluate(CHILD, parent=PARENT)  # parent weights from its checkpoint file
    assert again.parent == PARENT and again.val_curve == full.val_curve
    assert again.n_inherited == full.n_inherited > 0


def test_trial_records_parent_and_tensor_count(digits):
    """With a trial, the parent is the nearest COMPLETE trial of its study and the trial's user
    attrs name it and count the inherited tensors; a first trial records no parent."""
    ev = TrainEvaluator(digits, inherit_weights=1, **KW)
    study = optuna.create_study(direction="maximize")
    values = []
    for arch in (PARENT, CHILD):
        trial = study.ask()
        trial.set_user_attr("arch", arch)
        r = ev.evaluate(arch, trial=trial)
        study.tell(trial, r.value)
        values.append(r)
    first, second = study.trials
    assert first.user_attrs["inherit_parent"] is None
    assert first.user_attrs["inherited_tensors"] == 0
    assert second.user_attrs["inherit_parent"] == PARENT
    assert second.user_attrs["inherit_distance"] == 1
    assert second.user_attrs["inherited_tensors"] == values[1].n_inherited == 111
    assert ev.config()["inherit_weights"] == 1
    assert "inherit_weights" not in TrainEvaluator(digits, **KW).config()


def test_bad_inheritance_settings_raise(digits, trained):
    """A negative edge count, a space without edge modules and an untrained explicit parent are
    refused with the standard message."""
    with pytest.raises(InvalidParameterError, match=re.escape(
        "The 'inherit_weights' parameter of TrainEvaluator must be an int >= 0. Got -1"
    )):
        TrainEvaluator(digits, inherit_weights=-1, **KW)
    with pytest.raises(InvalidParameterError, match="weight inheritance needs NB201"):
        TrainEvaluator(digits, space="nb101", inherit_weights=1, **KW)
    with pytest.raises(InvalidParameterError, match=re.escape(
        "'parent' parameter of TrainEvaluator.evaluate must be an arch trained to the end"
    )):
        trained.evaluate(CHILD, parent=FAR.replace("none~1", "nor_conv_3x3~1"))
