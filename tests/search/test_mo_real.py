"""Cost metrics of built networks and the multi-objective real-training search (tiny NB201 nets
trained on digits for real)."""

from __future__ import annotations

import json
import time

import numpy as np
import optuna
import pytest
import torch
from torch import nn

from predictor_nas.cli import main
from predictor_nas.evaluators import TrainEvaluator
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.models import count_flops, count_params, latency_samples, measure_latency
from predictor_nas.search import make_storage, run_mo_real_search
from predictor_nas.search._mo_real import CostMeter
from predictor_nas.training import load_digits_data

TINY = dict(
    width=4, depth=1, epochs=1, batch_size=128, num_threads=1, latency_repeats=5, latency_warmup=1
)
ALL_CONV = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    "nor_conv_3x3~2|"
)
NO_CONV = "|none~0|+|skip_connect~0|none~1|+|skip_connect~0|none~1|none~2|"


@pytest.fixture(scope="module")
def digits():
    return load_digits_data(0)


def _tiny_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),  # 2*1*9 + 2 = 20 params; 32 outputs x 9 = 288 MACs
        nn.ReLU(),
        nn.Conv2d(2, 4, 1, groups=2, bias=False),  # 4 params; 64 outputs x (2/2)*1 = 64 MACs
        nn.BatchNorm2d(4),  # 8 params, 0 MACs
        nn.Flatten(),
        nn.Linear(64, 3),  # 64*3 + 3 = 195 params; 3 outputs x 64 = 192 MACs
    )


class _Sleepy(nn.Module):
    """Identity whose i-th forward call sleeps ``delays_ms[i]`` and records torch's threads."""

    def __init__(self, delays_ms: list[float]) -> None:
        super().__init__()
        self.delays_ms = delays_ms
        self.calls = 0
        self.threads: list[int] = []
        self.modes: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.threads.append(torch.get_num_threads())
        self.modes.append(self.training)
        time.sleep(self.delays_ms[self.calls] / 1000)
        self.calls += 1
        return x


def _study_trials(storage: str, name: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=make_storage(storage))
    return sorted(study.get_trials(), key=lambda t: t.number)


# --------------------------------------------------------------------------- cost metrics
def test_params_and_flops_are_exact_on_a_hand_computed_net():
    """count_params counts every parameter element; count_flops the conv/linear MACs of 1 input."""
    net = _tiny_net().train()
    assert count_params(net) == 20 + 4 + 8 + 195
    assert count_flops(net, (1, 4, 4)) == 288 + 64 + 192
    assert net.training  # the mode is restored
    assert not any(m._forward_hooks for m in net.modules())  # the hooks are removed
    with pytest.raises(InvalidParameterError, match="'input_shape' parameter of count_flops"):
        count_flops(net, 4)


def test_latency_is_the_median_of_repeats_without_the_warmup():
    """measure_latency: median of the timed passes; warm-up not timed; threads/mode restored."""
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        net = _Sleepy([300, 300, 20, 20, 20, 400, 400]).train()
        ms = measure_latency(net, (1, 2, 2), repeats=5, warmup=2, threads=1)
        assert net.calls == 7 and 20 <= ms < 150  # with the warm-up the median would be 300
        assert net.threads == [1] * 7 and net.modes == [False] * 7
        assert torch.get_num_threads() == 2 and net.training
        samples = latency_samples(_Sleepy([50, 1, 1, 200]), (1,), repeats=3, warmup=1)
        assert len(samples) == 3 and samples[2] >= 200 > max(samples[:2])
    finally:
        torch.set_num_threads(old)
    assert measure_latency(_tiny_net(), (1, 4, 4), repeats=3) > 0


def test_cost_meter_measures_the_evaluators_untrained_network(digits):
    """CostMeter's params equal the trained net's; each arch is measured once."""
    ev = TrainEvaluator(digits, width=4, depth=1, epochs=1, batch_size=128, num_threads=1)
    meter = CostMeter(ev, latency_repeats=3, latency_warmup=1)
    arch = ev.space.parse(ALL_CONV)
    c = meter.get(arch)
    assert c["params"] == ev.evaluate(arch).metrics["n_params"]
    assert c["flops"] > meter.get(ev.space.parse(NO_CONV))["flops"] > 0
    assert c["latency_ms"] > 0 and meter.latency_measured == 2
    assert meter.get(arch) == c and meter.latency_measured == 2


# --------------------------------------------------------------------------- errors
def test_bad_objectives_and_constraints_list_the_metrics():
    """Unknown metrics, wrong directions and trained-metric constraints name what exists."""
    listing = "params (min), flops (min), latency_ms (min), val_acc (max), train_time (min)"
    with pytest.raises(InvalidParameterError, match=r"Got 'acc:max'") as e:
        run_mo_real_search(objectives="acc:max", budget=1)
    assert listing in str(e.value)
    with pytest.raises(InvalidParameterError, match="wrong way: latency_ms is minimized") as e:
        run_mo_real_search(objectives="val_acc:max,latency_ms:max", budget=1)
    assert listing in str(e.value)
    with pytest.raises(InvalidParameterError, match="known only after training"):
        run_mo_real_search(objectives="val_acc:max", constraints="val_acc>=50", budget=1)
    with pytest.raises(InvalidParameterError, match="params, flops, latency_ms"):
        run_mo_real_search(objectives="val_acc:max", constraints="size<=5", budget=1)


def test_cli_bad_objective_exits_2_with_the_metric_list(capsys):
    """The CLI prints the objective error on one line and exits 2."""
    code = main(
        [
            "search",
            "--evaluator",
            "train",
            "--dataset",
            "digits",
            "--objectives",
            "val_acc:min",
            "--budget",
            "2",
            "--storage",
            ":memory:",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "val_acc is maximized" in err and "latency_ms (min)" in err
    assert "Traceback" not in err and err.count("\n") == 1


# --------------------------------------------------------------------------- searches
def test_cli_prints_the_front_with_its_hypervolume(tmp_path, capsys):
    """search --evaluator train --objectives: a front table, the hypervolume, the plot, JSON."""
    journal = str(tmp_path / "s.journal")
    png = tmp_path / "front.png"
    argv = [
        "search",
        "--evaluator",
        "train",
        "--dataset",
        "digits",
        "--objectives",
        "val_acc:max,latency_ms:min",
        "--budget",
        "3",
        "--epochs",
        "1",
        "--width",
        "4",
        "--storage",
        journal,
        "--no-progress",
        "--threads",
        "1",
    ]
    assert main([*argv, "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "Pareto front of the 3 trained architectures" in out
    assert "val_acc:max" in out and "latency_ms:min" in out and "hypervolume" in out
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
    assert main([*argv, "--json"]) == 0  # resumes: nothing left to train
    d = json.loads(capsys.readouterr().out)
    assert d["n_trained"] == 3 and d["resumed_from"] == 3 and d["latency_measured"] == 0
    assert d["hypervolume"] > 0 and d["reference_point"][0] == 0.0
    assert d["front"] and all(len(p["values"]) == 2 for p in d["front"])


def test_constraint_refuses_infeasible_archs_before_training(digits, tmp_path):
    """A proposal breaking params<=X is told FAIL with no training (no checkpoint, no curve)."""
    journal = str(tmp_path / "c.journal")
    r = run_mo_real_search(
        objectives="val_acc:max,params:min",
        constraints="params<=6000",
        data=digits,
        strategy="random",
        budget=3,
        seed=1,
        storage=journal,
        **TINY,
    )
    assert r.n_trained == 3 and r.n_infeasible > 0
    trials = _study_trials(journal, r.study_name)
    refused = [t for t in trials if t.user_attrs.get("infeasible")]
    trained = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(refused) == r.n_infeasible and len(trained) == 3
    ev = TrainEvaluator(digits, width=4, depth=1)
    ckpt = tmp_path / "c.journal.checkpoints" / r.study_name
    for t in refused:
        assert t.state == optuna.trial.TrialState.FAIL
        assert t.user_attrs["metrics"]["params"] > 6000
        assert "val_curve" not in t.user_attrs and "val_acc" not in t.user_attrs["metrics"]
        assert t.user_attrs["infeasible"] == "violates params<=6000"
        assert t.constraints["params<=6000"] > 0
        a = ev.space.parse(t.user_attrs["arch"])
        assert not list(ckpt.glob(f"nb201-{ev.space.index(a)}-*.pt"))
    for t in trained:
        assert t.user_attrs["metrics"]["params"] <= 6000
        assert t.constraints["params<=6000"] <= 0
        a = ev.space.parse(t.user_attrs["arch"])
        assert len(list(ckpt.glob(f"nb201-{ev.space.index(a)}-*.pt"))) == 1
    assert len(list(ckpt.glob("*.pt"))) == 3
    assert all(p["metrics"]["params"] <= 6000 for p in r.front)


def test_resume_reuses_stored_latency(digits, tmp_path):
    """A resumed study reads each arch's stored latency back; only new archs are measured."""
    journal = str(tmp_path / "r.journal")
    kw = dict(
        objectives="val_acc:max,latency_ms:min",
        data=digits,
        strategy="random",
        seed=3,
        storage=journal,
        **TINY,
    )
    first = run_mo_real_search(budget=2, **kw)
    assert first.latency_measured == 2 and first.latency_reused == 0
    again = run_mo_real_search(budget=3, **kw)
    assert again.resumed_from == 2 and again.n_trained == 3
    assert again.latency_reused == 2 and again.latency_measured == 1
    trials = [
        t
        for t in _study_trials(journal, first.study_name)
        if t.state == optuna.trial.TrialState.COMPLETE
    ]
    assert [t.values for t in trials[:2]] == first.evaluated
    assert [t.values for t in trials] == again.evaluated
    for t in trials:
        assert t.values[1] == t.user_attrs["metrics"]["latency_ms"] > 0


@pytest.mark.slow
def test_same_seed_gives_the_same_front_and_guided_proposals_are_feasible(digits):
    """mo-guided without latency: same seed -> same trained archs and values; all feasible."""
    kw = dict(
        objectives="val_acc:max,flops:min",
        constraints="params<=6000",
        data=digits,
        budget=5,
        n_init=3,
        seed=0,
        **TINY,
    )
    a = run_mo_real_search(**kw)
    b = run_mo_real_search(**kw)
    assert a.evaluated_archs == b.evaluated_archs and a.evaluated == b.evaluated
    assert [(p["arch"], p["values"]) for p in a.front] == [
        (p["arch"], p["values"]) for p in b.front
    ]
    assert a.hypervolume == b.hypervolume
    assert a.n_trained == 5 and a.n_infeasible == 0  # the sampler proposes feasible archs only
    assert all(p["metrics"]["params"] <= 6000 for p in a.front)


def test_constrained_single_objective_search_on_latency(digits):
    """--objectives val_acc:max --constraint latency_ms<=X: every trained arch meets X."""
    ev = TrainEvaluator(digits, width=4, depth=1)
    meter = CostMeter(ev, latency_repeats=5, latency_warmup=1)
    fast = meter.get(ev.space.parse(NO_CONV))["latency_ms"]
    slow = meter.get(ev.space.parse(ALL_CONV))["latency_ms"]
    bound = float(np.sqrt(fast * slow)) if slow > fast else 2 * slow
    r = run_mo_real_search(
        objectives=["val_acc:max"],
        constraints=[f"latency_ms<={bound}"],
        data=digits,
        budget=4,
        n_init=2,
        **TINY,
    )
    assert r.n_trained == 4 and len(r.front) == 1
    assert r.front[0]["metrics"]["latency_ms"] <= bound
    assert r.front[0]["values"][0] == max(v[0] for v in r.evaluated)
    assert r.hypervolume == pytest.approx(r.front[0]["values"][0])  # 1-D: best acc - 0


@pytest.mark.slow
def test_interrupted_trial_keeps_its_measured_costs(digits, tmp_path):
    """An arch whose run was killed after measuring is not measured again on resume."""
    kw = dict(objectives="val_acc:max,latency_ms:min", data=digits, strategy="random", seed=4)
    full = run_mo_real_search(budget=3, storage=str(tmp_path / "full.journal"), **kw, **TINY)
    journal = str(tmp_path / "killed.journal")
    run_mo_real_search(budget=2, storage=journal, **kw, **TINY)
    # What a run killed during the third architecture's training leaves: a RUNNING trial that
    # holds the architecture and its measured costs (here a latency no real pass would give).
    study = optuna.load_study(study_name=full.study_name, storage=make_storage(journal))
    space = TrainEvaluator(digits, width=4, depth=1).space
    third = space.parse(full.evaluated_archs[2])
    study.enqueue_trial(space.to_params(third))
    trial = study.ask(fixed_distributions=space.distributions())
    trial.set_user_attr("arch", full.evaluated_archs[2])
    trial.set_user_attr("metrics", {"params": 1.0, "flops": 2.0, "latency_ms": 123.0})
    del study
    resumed = run_mo_real_search(budget=3, storage=journal, **kw, **TINY)
    assert resumed.evaluated_archs == full.evaluated_archs
    assert resumed.latency_measured == 0 and resumed.latency_reused == 3
    assert resumed.evaluated[2][1] == 123.0  # the stored latency, not a new measurement
    assert [v[0] for v in resumed.evaluated] == [v[0] for v in full.evaluated]  # same training


def test_resuming_a_study_with_other_directions_is_refused_and_unlocked(digits, tmp_path):
    """open_study refuses a stored study of other directions and releases the run lock."""
    from predictor_nas.exceptions import StudyConfigMismatchError

    journal = str(tmp_path / "d.journal")
    optuna.create_study(storage=make_storage(journal), study_name="s", direction="maximize")
    kw = dict(objectives="val_acc:max,params:min", data=digits, storage=journal, budget=1)
    for _ in range(2):  # the second call is refused the same way, not as a study in use
        with pytest.raises(StudyConfigMismatchError, match=r"has directions \['maximize'\]"):
            run_mo_real_search(study_name="s", **kw, **TINY)
    assert not list((tmp_path / "d.journal.checkpoints").glob("**/*.pt"))
