"""Multi-fidelity search: bracket arithmetic, promotions, the ledger, resume and determinism."""

from __future__ import annotations

import json
import math

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from predictor_nas.exceptions import InvalidParameterError, StudyConfigMismatchError
from predictor_nas.multifidelity import (
    METHODS,
    Bracket,
    LinearFidelityMapping,
    Rung,
    SurrogateFidelityEvaluator,
    TableFidelityEvaluator,
    calibration_scale,
    combine_gaussians,
    fidelity_ladder,
    hyperband_brackets,
    promotion_order,
    run_multifidelity,
    schedule_brackets,
    successive_halving_bracket,
)
from predictor_nas.predictors import NotFittedError
from predictor_nas.search import make_storage
from predictor_nas.tables import open_table

#: A small predictor so that predictor-guided tests stay fast (same code path as the default).
SMALL = {"predictor_kwargs": {"n_estimators": 20, "ensemble_size": 3}, "n_warmup": 4}
#: Mean 200-epoch training seconds of a cifar10 cell in nb201-rich (one "full training").
T_C10 = 1828.0


@pytest.fixture(scope="module")
def rich(rich_table_path):
    """The nb201-rich table (12- and 200-epoch values)."""
    return open_table(rich_table_path)


@pytest.fixture(scope="module")
def c10(rich):
    """Multi-fidelity evaluator on nb201-rich cifar10."""
    return TableFidelityEvaluator(rich, "cifar10")


@pytest.fixture(scope="module")
def nb301(shared_data):
    """Multi-fidelity evaluator on the YAHPO NB301 surrogate."""
    return SurrogateFidelityEvaluator(shared_data / "surrogates" / "yahpo" / "nb301")


def load(*, study_name: str, storage: str) -> optuna.Study:
    """Load a stored study through the library's storage specs (journal file paths)."""
    return optuna.load_study(study_name=study_name, storage=make_storage(storage))


def ledger(study_name: str, storage: str) -> list[tuple]:
    """(step, arch, fidelity, value, cost, predicted mean, state) of every trial, by step."""
    study = load(study_name=study_name, storage=storage)
    rows = [
        (
            t.user_attrs["step"],
            t.user_attrs["arch"],
            t.user_attrs["fidelity"],
            t.value,
            t.user_attrs["cost_s"],
            t.user_attrs.get("predicted_mean"),
            t.state,
        )
        for t in study.trials
    ]
    return sorted(rows)


def promotions(study: optuna.Study) -> list[dict]:
    """The promotion decisions stored as study user attrs, in (bracket, rung) order."""
    keys = sorted(
        (k for k in study.user_attrs if k.startswith("promotion:")),
        key=lambda k: tuple(int(x) for x in k.split(":")[1:]),
    )
    return [study.user_attrs[k] for k in keys]


def comparable(result) -> dict:
    """A result's dict without the fields that differ between a resumed and a fresh run."""
    d = result.to_dict(trajectory=True)
    for k in ("wall_seconds", "resumed_from", "study_name", "storage"):
        d.pop(k)
    return d


# ------------------------------------------------------------------ bracket arithmetic
def test_hyperband_brackets_match_li_et_al_table_1():
    """R=81, r_min=1, eta=3 gives Hyperband's published (n_i, r_i) table."""
    got = [[(r.n_configs, r.fidelity) for r in b.rungs] for b in hyperband_brackets(81, 1, 3)]
    assert got == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]
    assert [b.s for b in hyperband_brackets(81, 1, 3)] == [4, 3, 2, 1, 0]
    assert successive_halving_bracket(81, 1, 3) == hyperband_brackets(81, 1, 3)[0]
    assert hyperband_brackets(81, 1, 3)[0].n_evaluations == 81 + 27 + 9 + 3 + 1


def test_ladders_for_the_benchmarks():
    """NB301's 98 epochs give rungs 1/4/11/33/98; NB201's two fidelities give 3@12 -> 1@200."""
    assert fidelity_ladder(98, 1, 3) == (1, 4, 11, 33, 98)
    assert fidelity_ladder(98, 3, 3) == (4, 11, 33, 98)
    assert fidelity_ladder(98, 98, 3) == (98,)
    assert fidelity_ladder(8, 1, 2) == (1, 2, 4, 8)
    assert fidelity_ladder(200, 12, 3, levels=(12, 200)) == (12, 200)
    assert hyperband_brackets(200, 12, 3, levels=(12, 200)) == [
        Bracket(s=1, rungs=(Rung(12, 3), Rung(200, 1))),
        Bracket(s=0, rungs=(Rung(200, 2),)),
    ]
    assert [r.n_configs for r in hyperband_brackets(200, 12, 9, levels=(12, 200))[0].rungs] == [
        9,
        1,
    ]
    assert [(r.n_configs, r.fidelity) for r in hyperband_brackets(8, 1, 2)[0].rungs] == [
        (8, 1),
        (4, 2),
        (2, 4),
        (1, 8),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"eta": 1}, "The 'eta' parameter of hyperband_brackets must be an int >= 2. Got 1"),
        ({"min_fidelity": 100}, "'min_fidelity' parameter of hyperband_brackets must be an int <="),
        ({"levels": (12, 100)}, "'levels' parameter of hyperband_brackets must be fidelities"),
        ({"eta": 2.5}, "'eta' parameter of hyperband_brackets must be an int >= 2"),
    ],
)
def test_bracket_errors(kwargs, message):
    """Bad eta / fidelities raise InvalidParameterError in the standard message form."""
    args = {"max_fidelity": 81, "min_fidelity": 1, **kwargs}
    with pytest.raises(InvalidParameterError, match=message):
        hyperband_brackets(**args)


# ------------------------------------------------------------------ promotion helpers
def test_linear_mapping_recovers_a_line_and_widens_away_from_data():
    """The low->final line recovers slope/intercept; its std grows away from the data's mean."""
    x = np.array([40.0, 50.0, 60.0, 70.0, 80.0, 55.0])
    y = 0.5 * x + 50.0 + np.array([0.1, -0.1, 0.2, -0.2, 0.0, 0.0])
    m = LinearFidelityMapping(min_pairs=5).fit(x, y)
    assert m.slope_ == pytest.approx(0.5, abs=0.01)
    assert m.intercept_ == pytest.approx(50.0, abs=0.6)
    p = m.predict([59.17, 120.0])
    assert p.mean[0] == pytest.approx(0.5 * 59.17 + 50, abs=0.1)
    assert p.std[1] > 2 * p.std[0] > 0
    with pytest.raises(InvalidParameterError, match="at least min_pairs=5 pairs"):
        LinearFidelityMapping().fit(x[:3], y[:3])
    with pytest.raises(InvalidParameterError, match="min_pairs"):
        LinearFidelityMapping(min_pairs=2).fit(x, y)
    with pytest.raises(NotFittedError):
        LinearFidelityMapping().predict([1.0])


def test_calibration_and_gaussian_combination():
    """Calibration is the RMS z-score; the combination is precision-weighted, NaN = ignore."""
    assert calibration_scale([0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [2, -2, 2, -2, 2]) == 2.0
    assert calibration_scale([0, 0], [1, 1], [1, 1]) is None
    mean, std = combine_gaussians(
        np.array([10.0, 10.0]), np.array([1.0, 1.0]), np.array([20.0, np.nan]), np.array([1.0, 1.0])
    )
    assert mean.tolist() == [15.0, 10.0]
    assert std[0] == pytest.approx(1 / math.sqrt(2)) and std[1] == 1.0


def test_promotion_order_breaks_ties_by_observed_then_order():
    """Highest score first; equal scores go to the higher observed value, then the earlier one."""
    order = promotion_order([1.0, 3.0, 3.0, 3.0, 0.5], [9.0, 1.0, 2.0, 2.0, 9.0], keep=3)
    assert order.tolist() == [2, 3, 1]
    assert promotion_order([1.0], [1.0], keep=5).tolist() == [0]


# ------------------------------------------------------------------ NB201 (two fidelities)
def test_single_fidelity_table_degenerates_to_full_fidelity(nb201_table):
    """On the embedded table (200 epochs only) Hyperband is one arch at a time at 200 epochs."""
    ev = TableFidelityEvaluator(nb201_table, "cifar10")
    assert schedule_brackets("hyperband", ev) == [Bracket(s=0, rungs=(Rung(200, 1),))]
    r = run_multifidelity(ev, method="hyperband", max_evaluations=7, seed=3)
    assert r.n_evaluations == r.n_full_evaluations == r.n_archs == 7
    assert r.ladder == [200]
    assert r.best_test is None  # the embedded table has no test accuracy
    assert r.stop_reason == "budget of 7 evaluations reached"


def test_sh_ledger_and_promotions(c10, rich, tmp_path):
    """SH ledger: 12-epoch trials PRUNED, 200-epoch COMPLETE; promoted = top 1 of 3 observed."""
    storage = str(tmp_path / "sh.journal")
    r = run_multifidelity(c10, method="sh", time_budget=8 * T_C10, seed=1, storage=storage)
    assert r.stop_reason == (
        f"time budget of {8 * T_C10:g} s reached after {r.n_evaluations} evaluations "
        f"({r.simulated_seconds:.1f} s spent)"
    )
    study = load(study_name=r.study_name, storage=storage)
    trials = sorted(study.trials, key=lambda t: t.user_attrs["step"])
    by_step = {t.user_attrs["step"]: t for t in trials}
    decisions = promotions(study)
    assert decisions, "no promotion happened"
    for d in decisions:
        observed = [by_step[s].value for s in d["steps"]]
        assert d["scores"] == observed  # plain SH: the score is the observed value
        assert len(d["steps"]) == 3 and len(d["promoted"]) == 1
        assert d["promoted"] == [d["steps"][int(np.argmax(observed))]]
        nxt = by_step.get(max(d["steps"]) + 1)
        if nxt is not None:
            assert nxt.user_attrs["arch"] == by_step[d["promoted"][0]].user_attrs["arch"]
            assert nxt.user_attrs["fidelity"] == 200
            assert nxt.user_attrs["cost_s"] == pytest.approx(
                rich.cost(nxt.user_attrs["arch"], dataset="cifar10", fidelity=200)
            )
    for t in trials:
        f = t.user_attrs["fidelity"]
        assert t.state == (TrialState.COMPLETE if f == 200 else TrialState.PRUNED)
        assert t.intermediate_values == {f: t.value}
        assert t.value == pytest.approx(
            rich.query(t.user_attrs["arch"], "val_acc", dataset="cifar10", fidelity=f)
        )
    assert r.simulated_seconds == pytest.approx(sum(t.user_attrs["cost_s"] for t in trials))
    assert r.simulated_seconds >= 8 * T_C10
    assert r.simulated_seconds - trials[-1].user_attrs["cost_s"] < 8 * T_C10
    assert study.best_value == r.best_val_observed == r.best_val
    assert r.regret_val == pytest.approx(91.60666665039064 - r.best_val)
    assert r.best_test == pytest.approx(rich.query(r.best_arch, "test_acc", dataset="cifar10"))
    assert r.trajectory_cost_s[-1] == pytest.approx(r.simulated_seconds)
    assert r.val_at(0.0) != r.val_at(0.0)  # NaN before the first result
    assert r.val_at(1e12) == r.best_val


@pytest.mark.slow
def test_curve_promotions_use_the_learned_mapping_and_the_predictor(c10, tmp_path):
    """MF promotions rank by predicted final value; once fitted they differ from the 12-epoch
    values, and the promoted arch is always the top-scored one."""
    storage = str(tmp_path / "mf.journal")
    r = run_multifidelity(
        c10, method="mf", time_budget=30 * T_C10, seed=2, storage=storage, **SMALL
    )
    study = load(study_name=r.study_name, storage=storage)
    by_step = {t.user_attrs["step"]: t for t in study.trials}
    decisions = promotions(study)
    extrapolated = 0
    for d in decisions:
        top = int(np.argmax(d["scores"]))
        assert d["promoted"] == [d["steps"][top]]
        observed = [by_step[s].value for s in d["steps"]]
        if d["scores"] != observed:
            extrapolated += 1
            # the 12 -> 200 mapping lifts 12-epoch accuracies toward 200-epoch ones
            assert np.mean(d["scores"]) > np.mean(observed)
    assert extrapolated >= 2
    assert any("predicted_mean" in t.user_attrs for t in study.trials)
    assert r.proposer == "predictor" and r.promotion == "curve" and r.schedule == "hyperband"


@pytest.mark.slow
def test_resume_equals_uninterrupted(c10, tmp_path):
    """A search stopped mid-bracket and resumed with a larger budget equals one run straight."""
    a, b = str(tmp_path / "a.journal"), str(tmp_path / "b.journal")
    kw = {"method": "mf", "seed": 5, **SMALL}
    first = run_multifidelity(c10, time_budget=9.3 * T_C10, storage=a, **kw)
    resumed = run_multifidelity(c10, time_budget=22 * T_C10, storage=a, **kw)
    straight = run_multifidelity(c10, time_budget=22 * T_C10, storage=b, **kw)
    assert 0 < first.n_evaluations == resumed.resumed_from < resumed.n_evaluations
    assert ledger(resumed.study_name, a) == ledger(straight.study_name, b)
    assert comparable(resumed) == comparable(straight)
    sa = load(study_name=resumed.study_name, storage=a)
    sb = load(study_name=straight.study_name, storage=b)
    assert promotions(sa) == promotions(sb)
    again = run_multifidelity(c10, time_budget=22 * T_C10, storage=a, **kw)  # nothing to do
    assert again.n_evaluations == straight.n_evaluations
    with pytest.raises(StudyConfigMismatchError, match="eta"):
        run_multifidelity(
            c10, time_budget=22 * T_C10, storage=a, study_name=resumed.study_name, eta=4, **kw
        )


@pytest.mark.slow
def test_same_seed_same_search(c10):
    """Same seed -> identical searches; another seed -> a different one."""
    kw = {"method": "mf", "time_budget": 12 * T_C10, **SMALL}
    r1 = run_multifidelity(c10, seed=11, **kw)
    r2 = run_multifidelity(c10, seed=11, **kw)
    r3 = run_multifidelity(c10, seed=12, **kw)
    assert comparable(r1) == comparable(r2)
    assert r1.trajectory_cost_s != r3.trajectory_cost_s


def test_imagenet_has_no_test_accuracy_at_200(rich):
    """ImageNet16-120's test accuracy exists at 12 epochs only: best_test is None, never 12's."""
    ev = TableFidelityEvaluator(rich, "ImageNet16-120")
    r = run_multifidelity(ev, method="random", max_evaluations=3, seed=0)
    assert r.best_test is None and all(v is None for v in r.trajectory_test)
    assert r.optimum_val == pytest.approx(46.733333, abs=1e-4)


# ------------------------------------------------------------------ NB301 (curves)
@pytest.mark.slow
def test_nb301_curves_continuations_and_curve_promotions(nb301, tmp_path):
    """NB301: trials carry the curve 1..f, promotions pay only the extra epochs, and curve
    promotions rank by extrapolated final accuracy (the learned model once 5 curves exist)."""
    storage = str(tmp_path / "nb301.journal")
    r = run_multifidelity(
        nb301,
        method="mf",
        min_fidelity=10,
        time_budget=40 * 5000.0,
        seed=0,
        storage=storage,
        curve_model="learned",
        **SMALL,
    )
    assert r.ladder == [11, 33, 98] and r.optimum_val is None and r.regret_val is None
    study = load(study_name=r.study_name, storage=storage)
    trials = sorted(study.trials, key=lambda t: t.user_attrs["step"])
    per_arch: dict[str, list] = {}
    for t in trials:
        f = t.user_attrs["fidelity"]
        assert sorted(t.intermediate_values) == list(range(1, f + 1))
        assert t.value == t.intermediate_values[f]
        per_arch.setdefault(t.user_attrs["arch"], []).append(t)
    for ts in per_arch.values():  # charged seconds add up to training once to the top fidelity
        top = max(ts, key=lambda t: t.user_attrs["fidelity"])
        assert sum(t.user_attrs["cost_s"] for t in ts) == pytest.approx(
            top.user_attrs["cost_total_s"]
        )
    assert any(len(ts) > 1 for ts in per_arch.values())
    decisions = promotions(study)
    by_step = {t.user_attrs["step"]: t for t in trials}
    learned = 0
    for d in decisions:
        keep = len(d["promoted"])
        observed = [by_step[s].value for s in d["steps"]]
        order = promotion_order(d["scores"], observed, keep)
        assert d["promoted"] == [d["steps"][j] for j in order]
        n_full = sum(t.user_attrs["fidelity"] == 98 for t in trials[: min(d["steps"])])
        if n_full < 5:  # last-value model until the learned one has 5 full curves
            assert d["scores"] == observed
        else:
            learned += 1
            assert d["scores"] != observed
    assert learned >= 1
    assert r.best_val == pytest.approx(
        nb301.surrogate.evaluate(r.best_arch, 98).metrics["val_acc"], abs=1e-9
    )
    assert r.best_fidelity == 98
    resumed = run_multifidelity(
        nb301,
        method="mf",
        min_fidelity=10,
        time_budget=40 * 5000.0,
        seed=0,
        storage=storage,
        curve_model="learned",
        **SMALL,
    )
    assert resumed.resumed_from == r.n_evaluations and comparable(resumed) == comparable(r)


# ------------------------------------------------------------------ bad input
def test_run_multifidelity_rejects_bad_input(c10, nb201_table):
    """Unknown method / schedule, no or non-positive budget, bad eta / fidelities all raise."""
    with pytest.raises(InvalidParameterError, match="'method' parameter of run_multifidelity"):
        run_multifidelity(c10, method="bohb", time_budget=1.0)
    with pytest.raises(InvalidParameterError, match="'schedule' parameter"):
        run_multifidelity(c10, schedule="asha", time_budget=1.0)
    with pytest.raises(InvalidParameterError, match="'time_budget' parameter"):
        run_multifidelity(c10)
    with pytest.raises(InvalidParameterError, match=r"must be a finite float > 0\.0\. Got 0"):
        run_multifidelity(c10, time_budget=0)
    with pytest.raises(InvalidParameterError, match="'eta' parameter of run_multifidelity"):
        run_multifidelity(c10, time_budget=1.0, eta=1)
    with pytest.raises(
        InvalidParameterError, match=r"'min_fidelity' parameter .* one of \[12, 200"
    ):
        run_multifidelity(c10, time_budget=1.0, min_fidelity=50)
    with pytest.raises(InvalidParameterError, match="'evaluator' parameter"):
        run_multifidelity(nb201_table, time_budget=1.0)
    with pytest.raises(InvalidParameterError, match="'curve_model' parameter"):
        run_multifidelity(c10, time_budget=1.0, curve_model="spline")
    with pytest.raises(InvalidParameterError, match="'predictor' parameter"):
        run_multifidelity(c10, time_budget=1.0, predictor="lstm")
    with pytest.raises(InvalidParameterError, match="test accuracy"):
        TableFidelityEvaluator(c10.table, "cifar10", metric="test_acc")
    with pytest.raises(InvalidParameterError, match="'dataset' parameter"):
        TableFidelityEvaluator(c10.table, "mnist")
    with pytest.raises(InvalidParameterError, match=r"'fidelity' parameter .* one of \[12, 200\]"):
        c10.observe([c10.space.sample(0)], 100)
    assert set(METHODS) == {"mf", "mf-sh", "hyperband", "sh", "guided", "random"}


def test_surrogate_evaluator_rejects_bad_fidelities(nb301):
    """The NB301 evaluator offers epochs 1..98 only."""
    from predictor_nas.multifidelity import SurrogateFidelityEvaluator as Sfe

    with pytest.raises(InvalidParameterError, match=r"'max_fidelity' parameter .* \[2, 98\]"):
        Sfe(nb301.surrogate, max_fidelity=99)
    with pytest.raises(InvalidParameterError, match="'min_fidelity' parameter"):
        Sfe(nb301.surrogate, max_fidelity=20, min_fidelity=30)
    with pytest.raises(InvalidParameterError, match=r"an int in \[1, 98\]"):
        nb301.observe([nb301.space.sample(0)], 0)
    obs = nb301.observe([nb301.space.sample(0)], 3)[0]
    assert sorted(obs.curve) == [1, 2, 3] and obs.cost_total > 0


# ------------------------------------------------------------------ CLI
def test_cli_multifidelity_runs_and_resumes(rich_table_path, tmp_path, capsys):
    """`predictor-nas multifidelity` prints the JSON result; rerunning it resumes the study."""
    from predictor_nas.cli import main

    journal = str(tmp_path / "cli.journal")
    args = ["multifidelity", "--table", str(rich_table_path), "--method", "hyperband"]
    args += ["--time-budget", str(6 * T_C10), "--seed", "4", "--storage", journal, "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["method"] == "hyperband" and first["ladder"] == [12, 200]
    assert first["simulated_seconds"] >= 6 * T_C10 and first["resumed_from"] == 0
    assert first["regret_val"] == pytest.approx(first["optimum_val"] - first["best_val"])
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["resumed_from"] == first["n_evaluations"] == again["n_evaluations"]
    assert main([*args[:-1], "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "regret (validation)" in text and "rungs [12, 200]" in text


def test_cli_multifidelity_errors(capsys):
    """Missing --surrogate or budget: message on stderr and exit status 2; bad method: 2."""
    from predictor_nas.cli import main

    assert main(["multifidelity", "--benchmark", "nb301", "--time-budget", "5"]) == 2
    assert "needs --surrogate FOLDER" in capsys.readouterr().err
    assert main(["multifidelity", "--table", "nb201", "--storage", "memory"]) == 2
    assert "The --time-budget option of multifidelity" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["multifidelity", "--method", "bohb"])
    assert exc.value.code == 2
