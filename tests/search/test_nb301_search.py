"""Zero-cost search, compare and coordinate on NB301 through the YAHPO ONNX surrogate.

The surrogate comes from ../shared/data/surrogates/yahpo/nb301 (skipped when absent or when
onnxruntime is not installed); budgets stay tiny.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from predictor_nas.compare import compare
from predictor_nas.distributed import run_coordinator, run_worker
from predictor_nas.evaluators import NB301SurrogateEvaluator, make_evaluator
from predictor_nas.exceptions import InvalidParameterError, SearchError
from predictor_nas.search import REFERENCE_BEST, SURROGATE_ENV, run_search
from predictor_nas.spaces import get_space

STRATEGIES = ("random", "rea", "ls", "reinforce", "tpe", "gp", "guided")


@pytest.fixture(scope="module")
def folder(shared_data):
    """Folder of YAHPO's nb301 files (skipped without onnxruntime)."""
    pytest.importorskip("onnxruntime")
    return str(shared_data / "surrogates" / "yahpo" / "nb301")


@pytest.fixture(scope="module")
def surrogate(folder):
    """The NB301 surrogate evaluator."""
    return NB301SurrogateEvaluator(folder)


@pytest.fixture
def run_cli():
    """``predictor-nas ARGS`` in a subprocess: ``run_cli(*args, cwd) -> (code, out, err)``."""

    def run(*args, cwd=None, env=None):
        cmd = [sys.executable, "-m", "predictor_nas.cli", *args]
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=300,
                           env={**os.environ, **(env or {})})  # fmt: skip
        return p.returncode, p.stdout, p.stderr

    return run


def _search(folder, **kw):
    return run_search(evaluator="nb301-surrogate", surrogate=folder, **kw)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_searches_nb301(folder, surrogate, strategy):
    """Each strategy makes its queries on NB301; the incumbent, its value and regret are the
    surrogate's own numbers, and the architectures are distinct NB301 genotypes."""
    budget = 12
    r = _search(folder, strategy=strategy, budget=budget, seed=3)
    assert r.n_queries == budget and r.evaluator == "nb301-surrogate"
    assert len(r.trajectory_val) == budget
    assert np.all(np.diff(r.trajectory_val) >= 0)  # an anytime incumbent never gets worse
    assert r.best_val == r.trajectory_val[-1] == r.best_val_observed
    assert surrogate.evaluate(r.best_arch).value == pytest.approx(r.best_val, abs=1e-9)
    assert r.regret_val == pytest.approx(r.table_best_val - r.best_val, abs=1e-9)
    assert r.best_test is None and r.trajectory_test is None
    assert r.simulated_seconds > 0
    get_space("nb301").parse(r.best_arch)  # a valid genotype string


def test_reference_best_is_recorded_and_above_a_random_sample(surrogate):
    """The shipped surrogate has a documented reference best that no random arch beats and
    that the surrogate reproduces for its architecture."""
    ref = REFERENCE_BEST[surrogate.model_sha256]
    assert "scripts/nb301_reference_best.py" in ref.how and ref.epochs == 98
    assert surrogate.evaluate(ref.arch).value == pytest.approx(ref.value, abs=1e-6)
    sp = get_space("nb301")
    rng = np.random.default_rng(123)
    vals = surrogate.curves([sp.sample(rng) for _ in range(500)], [98]).val_acc[:, 0]
    assert vals.max() <= ref.value


def test_nb301_search_is_reproducible_and_resumes_on_a_journal(folder, tmp_path):
    """Same seed, same trajectory; a journal study stopped at 4 queries and resumed to 8 equals
    an uninterrupted 8-query search."""
    a = _search(folder, strategy="rea", budget=8, seed=1)
    b = _search(folder, strategy="rea", budget=8, seed=1)
    assert a.trajectory_val == b.trajectory_val and a.best_arch == b.best_arch
    spec = str(tmp_path / "s.journal")
    first = _search(folder, strategy="rea", budget=4, seed=1, storage=spec)
    assert first.n_queries == 4
    resumed = _search(folder, strategy="rea", budget=8, seed=1, storage=spec)
    assert resumed.resumed_from == 4 and resumed.n_queries == 8
    assert resumed.trajectory_val == a.trajectory_val


def test_bad_evaluator_name_lists_the_usable_ones():
    """An unknown evaluator is refused with the names a search can use."""
    with pytest.raises(InvalidParameterError) as e:
        run_search(evaluator="nb999", budget=1)
    assert str(e.value) == (
        "The 'evaluator' parameter of search must be one of 'table', 'nb301-surrogate'. "
        "Got 'nb999' instead."
    )


def test_surrogate_without_folder_names_the_option_and_variable(monkeypatch):
    """No folder and no environment variable: a one-line error naming both."""
    monkeypatch.delenv(SURROGATE_ENV, raising=False)
    with pytest.raises(InvalidParameterError, match=SURROGATE_ENV) as e:
        run_search(evaluator="nb301-surrogate", budget=1)
    assert "'surrogate' parameter of search" in str(e.value)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"space": "nb201"}, "The 'space' parameter of search must be 'nb301'"),
        ({"dataset": "cifar100"}, "The 'dataset' parameter of search must be one of 'cifar10'"),
        ({"draw_seed": True}, "The 'draw_seed' parameter of search must be False"),
        ({"test_metric": "test_acc"}, "The 'test_metric' parameter of search must be None"),
    ],
)
def test_surrogate_search_refuses_table_only_options(folder, kw, message):
    """Options that need a table are refused before any query."""
    with pytest.raises(InvalidParameterError, match=message):
        _search(folder, budget=1, **kw)


def test_cli_search_on_the_surrogate(run_cli, folder, tmp_path):
    """`search --evaluator nb301-surrogate` exits 0 with the result; the env var finds the
    folder too."""
    code, out, err = run_cli(
        "search", "--space", "nb301", "--evaluator", "nb301-surrogate", "--surrogate", folder,
        "--budget", "3", "--strategy", "random", "--json", "--storage", ":memory:", cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    d = json.loads(out)
    assert d["evaluator"] == "nb301-surrogate" and d["n_queries"] == 3
    assert d["regret_val"] == pytest.approx(d["table_best_val"] - d["best_val"], abs=1e-9)
    code, out, err = run_cli(
        "search", "--evaluator", "nb301-surrogate", "--budget", "2", "--storage", ":memory:",
        cwd=tmp_path, env={SURROGATE_ENV: folder},
    )  # fmt: skip
    assert code == 0, err
    assert "reference best" in out and "nb301-surrogate" in out


def test_cli_bad_evaluator_lists_the_search_evaluators(run_cli, tmp_path):
    """`search --evaluator nope` exits 2 and names every evaluator a search can use."""
    code, out, err = run_cli("search", "--evaluator", "nope", cwd=tmp_path)
    assert code == 2 and out == "" and "Traceback" not in err
    assert "invalid choice: 'nope' (choose from 'table', 'train', 'nb301-surrogate')" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--evaluator", "nb301-surrogate", "--dataset", "cifar100"],
         "The --dataset option of search must be one of 'cifar10'. Got 'cifar100' instead."),
        (["--evaluator", "nb301-surrogate", "--objectives", "val_acc:max,params:min"],
         "--objectives, --constraint and --plot need a table"),
    ],
)  # fmt: skip
def test_cli_search_surrogate_mistakes_exit_2(run_cli, folder, tmp_path, args, message):
    """Mistakes exit 2 with one line, never a traceback; a bad evaluator lists the search's."""
    code, out, err = run_cli("search", *args, "--surrogate", folder, "--budget", "2",
                             "--storage", ":memory:", cwd=tmp_path)  # fmt: skip
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_compare_on_nb301_measures_regret_against_the_reference(folder, tmp_path):
    """compare runs strategies x seeds on the surrogate; each run's regret is the reference
    minus its incumbent, and a rerun reads every run back from the cache."""
    cache = tmp_path / "runs.jsonl"
    kw = dict(evaluator="nb301-surrogate", surrogate=folder, strategies="random,rea",
              budget=6, seeds=2, cache=cache)  # fmt: skip
    res = compare(**kw)
    assert len(res.runs) == 4 and res.n_cached == 0
    entry = res.datasets["cifar10"]
    top = entry["table_best_val"]
    assert "documented reference best" in entry["reference"]
    for r in res.runs:
        assert r.regret_val == pytest.approx(top - r.best_val, abs=1e-9)
        assert r.trajectory_regret_val[-1] == pytest.approx(r.regret_val, abs=1e-9)
    again = compare(**kw)
    assert again.n_cached == 4
    assert [r.trajectory_val for r in again.runs] == [r.trajectory_val for r in res.runs]
    d = res.to_dict()
    assert d["evaluator"] == "nb301-surrogate" and d["surrogate_model_sha256"].startswith("sha")


def test_cli_compare_on_nb301_writes_the_report(run_cli, folder, tmp_path):
    """`compare --evaluator nb301-surrogate --out DIR` exits 0 and its report says what regret
    is measured against."""
    out_dir = tmp_path / "c"
    code, _, err = run_cli(
        "compare", "--evaluator", "nb301-surrogate", "--surrogate", folder, "--strategies",
        "random", "--budget", "3", "--seeds", "1", "--out", str(out_dir), "--no-progress",
        cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    md = (out_dir / "compare.md").read_text()
    assert "documented reference best" in md and "--surrogate FOLDER" in md
    assert folder not in md  # no machine paths in a committed report


def test_coordinate_with_the_surrogate_on_a_journal(folder, tmp_path):
    """A coordinator and a worker fill a 5-trial NB301 study through the surrogate factory;
    the worker's values are the surrogate's and the study stores the model's hash."""
    spec = str(tmp_path / "d.journal")
    out: dict = {}

    def coordinate():
        out["c"] = run_coordinator(
            spec, "nb301-d", space="nb301", evaluator="nb301-surrogate", strategy="random",
            evaluator_options={"path": folder}, budget=5, queue_size=2, poll_interval=0.02,
        )  # fmt: skip

    th = threading.Thread(target=coordinate, daemon=True)
    th.start()
    time.sleep(0.5)
    w = run_worker(spec, "nb301-d", wait_for_study=60, poll_interval=0.02, idle_timeout=60)
    th.join(120)
    assert not th.is_alive()
    res = out["c"]
    assert res.done and res.n_complete == 5 and w.n_evaluated == 5
    import optuna

    from predictor_nas.search import make_storage

    study = optuna.load_study(study_name="nb301-d", storage=make_storage(spec))
    ev = NB301SurrogateEvaluator(folder)
    for t in study.get_trials(deepcopy=False):
        assert t.value == pytest.approx(ev.evaluate(t.user_attrs["arch"]).value, abs=1e-9)
    config = next(v for k, v in study.user_attrs.items() if isinstance(v, dict) and
                  v.get("evaluator") == "nb301-surrogate")  # fmt: skip
    assert config["evaluator_options"]["model_sha256"] == ev.model_sha256


def test_worker_refuses_another_surrogate_model(folder):
    """A worker whose surrogate file differs from the study's model hash refuses to evaluate."""
    config = {"evaluator": "nb301-surrogate", "space": "nb301", "dataset": "cifar10",
              "metric": "val_acc", "draw_seed": False,
              "evaluator_options": {"path": folder, "model_sha256": "sha256:0"}}  # fmt: skip
    with pytest.raises(SearchError, match="every worker must load the same model"):
        make_evaluator(config)


def test_reinforce_policy_on_nb301_learns_active_decisions_only(folder):
    """REINFORCE on nb301 draws valid genotypes from its conditional decisions and its policy
    moves away from uniform, never giving an edge the 'none' value."""
    import optuna

    from predictor_nas.samplers import ReinforceSampler
    from predictor_nas.search import make_storage

    spec = make_storage(None)
    study = optuna.create_study(storage=spec, direction="maximize")
    sp = get_space("nb301")
    ev = NB301SurrogateEvaluator(folder)
    for n in range(8):
        study.sampler = ReinforceSampler(sp, seed=n)
        trial = study.ask()
        arch = sp.suggest(trial)
        study.tell(trial, ev.evaluate(arch).value)
    logits = ReinforceSampler(sp, seed=0).logits(study)
    none = sp.choices.index("none")
    edges = [i for i, p in enumerate(sp.param_names) if p.startswith("edge_")]
    assert np.all(np.isneginf(logits[edges, none]))
    assert np.isfinite(logits[edges][:, none + 1 : none + 8]).all()
    assert np.abs(np.nan_to_num(logits, neginf=0.0)).max() > 0  # it learned something
    assert len({sp.canonical_key(sp.from_params(t.params)) for t in study.trials}) == 8


def test_a_table_evaluator_object_searches_like_the_table_name(nb201_table):
    """run_search(evaluator=TableEvaluator(...)) is the table search it describes, query for
    query (the table is one kind of evaluator)."""
    from predictor_nas.evaluators import TableEvaluator

    by_name = run_search(table=str(nb201_table.path), strategy="rea", budget=15, seed=2)
    by_object = run_search(
        evaluator=TableEvaluator(nb201_table, "cifar10"), strategy="rea", budget=15, seed=2
    )
    assert by_object.trajectory_regret_val == by_name.trajectory_regret_val
    assert by_object.best_arch == by_name.best_arch and by_object.evaluator == "table"
