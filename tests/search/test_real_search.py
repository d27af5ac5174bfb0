"""Predictor-in-the-loop search with real training (tiny NB201 nets on digits), and its CLI."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest

from predictor_nas.cli import main
from predictor_nas.evaluators import TrainEvaluation, TrainEvaluator
from predictor_nas.exceptions import (
    InvalidParameterError,
    StudyConfigMismatchError,
    StudyInUseError,
)
from predictor_nas.samplers import mutation_pool
from predictor_nas.search import TablePrior, make_storage, run_real_search
from predictor_nas.search._journal import StudyRunLock
from predictor_nas.spaces import get_space
from predictor_nas.training import load_digits_data

TINY = dict(width=4, depth=1, epochs=2, batch_size=128, num_threads=1, pool_size=60)
ARCH = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)


@pytest.fixture(scope="module")
def digits():
    return load_digits_data(0)


def _trials(storage: str, name: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=make_storage(storage))
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return sorted(study.get_trials(states=states), key=lambda t: t.number)


def test_train_evaluator_is_seeded_per_arch(digits):
    """TrainEvaluator trains the NB201 net of an arch; same arch + seed -> the same curve."""
    ev = TrainEvaluator(digits, width=4, depth=1, epochs=2, batch_size=128, num_threads=1)
    a = ev.evaluate(ARCH)
    b = ev.evaluate(ARCH)
    assert isinstance(a, TrainEvaluation)
    assert a.val_curve == b.val_curve and len(a.val_curve) == 2 and a.epochs_run == 2
    assert a.value == a.val_curve[-1] == a.metrics["val_acc"] and a.value > 50.0
    assert 0 <= a.metrics["test_acc"] <= 100 and a.cost > 0 and not a.pruned
    assert ev.arch_seed(ARCH) != ev.arch_seed(get_space("nb201").sample(0))
    assert ev.arch_seed(ARCH) != TrainEvaluator(digits, seed=1).arch_seed(ARCH)
    with pytest.raises(InvalidParameterError, match="'data' parameter of TrainEvaluator"):
        TrainEvaluator(np.zeros(3))


def test_topk_search_trains_rounds_and_records_the_ledger():
    """topk: round 0 random, later rounds predictor-ranked; every run is a trial with its curve."""
    r = run_real_search(max_trials=6, top_k=2, n_init=2, seed=0, **TINY)
    assert r.n_trained == 6 and r.n_complete + r.n_pruned == 6 and r.n_complete >= 2
    assert r.rounds == 3 and r.strategy == "topk" and r.device == "cpu"
    assert r.total_epochs == 2 * r.n_complete + r.n_pruned  # a pruned 2-epoch run ran 1
    epochs = [p["epochs"] for p in r.trajectory]
    assert epochs == sorted(epochs) and epochs[-1] == r.total_epochs <= 12
    assert r.trajectory[-1]["val"] == r.best_val and r.best_test is not None
    assert r.wall_seconds >= r.train_seconds > 0


def test_topk_plans_are_stored_and_never_repeat_a_cell(tmp_path):
    """Plans live in the study (plan_<r>); no canonical cell is trained twice; curves stored."""
    storage = str(tmp_path / "s.journal")
    r = run_real_search(max_trials=6, top_k=2, n_init=2, seed=1, storage=storage, **TINY)
    study = optuna.load_study(study_name=r.study_name, storage=make_storage(storage))
    plans = [study.user_attrs[f"plan_{i}"] for i in range(3)]
    assert [len(p) for p in plans] == [2, 2, 2]
    assert plans[0][0]["pred_mean"] is None and plans[1][0]["pred_mean"] is not None
    trials = _trials(storage, r.study_name)
    keys = [t.user_attrs["canonical_key"] for t in trials]
    assert len(set(keys)) == 6
    assert [t.user_attrs["round"] for t in trials] == [0, 0, 1, 1, 2, 2]
    for t in trials:
        assert len(t.intermediate_values) == t.user_attrs["epochs_run"]
        assert t.user_attrs["arch"] in {it["arch"] for p in plans for it in p}
    best = max((t for t in trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    assert best.user_attrs["arch"] == r.best_arch and best.value == r.best_val


@pytest.mark.slow
def test_resume_after_a_crash_gives_the_uninterrupted_result(tmp_path):
    """Stop after 3 runs, leave a half-run trial (killed process), rerun: same archs and values."""
    straight = str(tmp_path / "a.journal")
    r_full = run_real_search(max_trials=5, top_k=2, n_init=2, seed=2, storage=straight, **TINY)
    resumed = str(tmp_path / "b.journal")
    run_real_search(max_trials=3, top_k=2, n_init=2, seed=2, storage=resumed, **TINY)
    study = optuna.load_study(study_name=r_full.study_name, storage=make_storage(resumed))
    study.ask()  # a trial left RUNNING, as by a process killed mid-training
    r = run_real_search(max_trials=5, top_k=2, n_init=2, seed=2, storage=resumed, **TINY)
    assert r.resumed_from == 3 and r.n_trained == 5
    a, b = _trials(straight, r.study_name), _trials(resumed, r.study_name)
    assert [t.user_attrs["arch"] for t in a] == [t.user_attrs["arch"] for t in b]
    assert [t.intermediate_values for t in a] == [t.intermediate_values for t in b]
    assert [t.state for t in a] == [t.state for t in b]
    assert r.best_val == r_full.best_val and r.best_arch == r_full.best_arch
    with pytest.raises(StudyConfigMismatchError, match="top_k: stored 2, now 3"):
        run_real_search(max_trials=6, top_k=3, n_init=2, seed=2, storage=resumed, **TINY)


def test_rea_baseline_trains_every_proposal_fully():
    """A table strategy (rea) proposes one arch per trial and trains each for all epochs."""
    r = run_real_search(strategy="rea", max_trials=3, seed=0, **TINY)
    assert r.n_trained == r.n_complete == 3 and r.n_pruned == 0
    assert r.total_epochs == 3 * TINY["epochs"] and r.rounds == 0
    assert r.stop_reason == "budget of 3 trained archs reached"


def test_process_clock_budget_stops_the_search():
    """With clock='process' the budget counts CPU seconds of this process, summed per run."""
    r = run_real_search(strategy="random", budget_seconds=0.2, clock="process", seed=0, **TINY)
    assert r.clock == "process" and r.n_trained >= 1
    before_last = r.trajectory[-2]["seconds"] if r.n_trained > 1 else 0.0
    assert before_last < 0.2 <= r.clock_seconds == r.trajectory[-1]["seconds"]
    assert r.stop_reason == (
        f"process-time budget of 0.2 s reached after {r.n_trained} trained archs "
        f"({r.clock_seconds:.1f} s spent)"
    )
    with pytest.raises(InvalidParameterError, match="'clock' parameter"):
        run_real_search(max_trials=1, clock="gpu")


def test_train_evaluator_checkpoints_per_arch(digits, tmp_path):
    """With checkpoint_dir each arch has its own checkpoint; a rerun returns the stored run."""
    ev = TrainEvaluator(digits, width=4, depth=1, epochs=2, batch_size=128, num_threads=1,
                        checkpoint_dir=tmp_path / "ck")
    a = ev.evaluate(ARCH)
    files = list((tmp_path / "ck").iterdir())
    assert len(files) == 1 and files[0].name.startswith("nb201-")
    b = ev.evaluate(ARCH)
    assert b.val_curve == a.val_curve and b.metrics["test_acc"] == a.metrics["test_acc"]


def test_warm_start_ranks_round_zero_by_the_table_prior(nb201_table):
    """With a table prior, round 0 trains the pool's best cells by NB201 CIFAR-10 accuracy."""
    prior = TablePrior(nb201_table, "cifar10")
    assert prior.names == ["prior_cifar10_val_acc"]
    space = get_space("nb201")
    top = nb201_table.query(ARCH, "val_acc", dataset="cifar10")
    assert prior.score([space.parse(ARCH)])[0] == pytest.approx(top)
    assert prior.transform([space.parse(ARCH)]).shape == (1, 1)
    r = run_real_search(max_trials=4, top_k=2, n_init=2, seed=0, warm_start=prior,
                        storage=None, **TINY)
    assert r.n_trained == 4
    # Round 0 = the two best priors of its pool; they are good CIFAR-10 cells (> 85%).
    pool = mutation_pool(space, np.random.default_rng([0, 0, 1]), [], set(), 60, 20)
    best2 = np.sort(prior.score(pool))[-2:]
    assert best2.min() > 85.0


def test_proxy_warm_start_trains_the_proxies_favourites_first(tmp_path):
    """warm_start=ProxyPrior: round 0 trains the n_init archs of the first max_scored pool archs
    that the proxy ensemble ranks best; the prior is recorded in the study's config."""
    from predictor_nas.proxies import ProxyEnsemble
    from predictor_nas.search import ProxyPrior

    ens = ProxyEnsemble(("synflow", "params"), width=4, depth=1, input_size=8, batch_size=8)
    prior = ProxyPrior(ens, max_scored=12)
    space = get_space("nb201")
    pool = mutation_pool(space, np.random.default_rng([0, 0, 1]), [], set(), 60, 20)
    s = prior.score(pool)
    assert np.isfinite(s[:12]).all() and np.isinf(s[12:]).all() and prior.features is None
    want = {space.canonical_key(pool[i]) for i in np.lexsort((np.arange(60), -s))[:2]}
    storage = str(tmp_path / "s.journal")
    r = run_real_search(max_trials=2, top_k=2, n_init=2, seed=0, warm_start=prior,
                        storage=storage, study_name="proxy-prior", **TINY)
    assert r.n_trained == 2
    trials = _trials(storage, "proxy-prior")
    assert {t.user_attrs["canonical_key"] for t in trials} == want
    config = optuna.load_study(study_name="proxy-prior", storage=make_storage(storage)).user_attrs
    assert "proxies:synflow,params" in json.dumps(config)
    with pytest.raises(InvalidParameterError, match="'ensemble' parameter of ProxyPrior"):
        ProxyPrior("synflow")
    with pytest.raises(InvalidParameterError, match="'warm_start' parameter"):
        run_real_search(max_trials=1, warm_start=3)


def test_search_argument_errors():
    """Missing budgets, pruning with one epoch and unknown strategies are refused up front."""
    with pytest.raises(InvalidParameterError, match="'budget_seconds' parameter"):
        run_real_search()
    with pytest.raises(InvalidParameterError, match="Pruning needs epochs >= 2"):
        run_real_search(max_trials=1, epochs=1)
    with pytest.raises(InvalidParameterError, match="'strategy' parameter"):
        run_real_search(max_trials=1, strategy="bananas")
    with pytest.raises(InvalidParameterError, match="'n_init' parameter"):
        run_real_search(max_trials=1, n_init=1)


def test_cli_search_train_json(capsys):
    """`predictor-nas search --evaluator train` runs a tiny digits search and prints JSON."""
    code = main([
        "search", "--evaluator", "train", "--dataset", "digits", "--budget", "3",
        "--epochs", "2", "--width", "4", "--top-k", "2", "--threads", "1",
        "--storage", "memory", "--json",
    ])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_trained"] == 3 and out["strategy"] == "topk" and out["dataset"] == "digits"
    assert 0 < out["best_val"] <= 100


def test_cli_refuses_training_options_for_table_search(capsys):
    """Training-only options without --evaluator train exit 2 with a clear message."""
    code = main(["search", "--top-k", "3", "--storage", "memory"])
    assert code == 2
    assert "--top-k is only for real training" in capsys.readouterr().err


def test_topk_search_runs_on_cifar_shaped_colour_images():
    """The same search runs on 3x32x32 colour images with crop+flip augmentation (CIFAR-10's
    shape and recipe): a learnable colour signal is picked up and the ledger is complete."""
    from predictor_nas.training import from_arrays

    rng = np.random.default_rng(0)

    def split(n):
        y = rng.integers(0, 3, size=n)
        x = rng.integers(0, 256, size=(n, 3, 32, 32)).astype(np.uint8)
        for c in range(3):  # class c has a brighter channel c: learnable in an epoch or two
            x[y == c, c] = np.clip(x[y == c, c].astype(int) + 120, 0, 255).astype(np.uint8)
        return x, y

    data = from_arrays(*split(192), *split(96), *split(96), name="cifar-shaped", augment="crop_flip")
    r = run_real_search(data=data, max_trials=3, top_k=1, n_init=2, seed=0,
                        **{**TINY, "epochs": 2, "batch_size": 64})
    assert r.n_trained == 3 and r.device == "cpu" and r.best_test is not None
    assert r.best_val > 50.0  # chance is 33%


def test_checkpoints_by_default_next_to_a_journal_not_for_memory(tmp_path):
    """Without checkpoint_dir a journal search keeps per-arch checkpoints beside the journal
    (so a rerun resumes an interrupted arch mid-training); an in-memory search keeps none."""
    from predictor_nas.search._real import default_checkpoint_dir

    journal = str(tmp_path / "r.journal")
    r = run_real_search(strategy="random", max_trials=2, seed=0, storage=journal, **TINY)
    folder = tmp_path / "r.journal.checkpoints" / r.study_name
    assert default_checkpoint_dir(journal, r.study_name) == folder
    assert len(list(folder.glob("*.pt"))) == 2
    assert default_checkpoint_dir(None, "s") is None
    assert default_checkpoint_dir("postgresql://u@h/db", "s") is None
    assert default_checkpoint_dir(f"sqlite:///{tmp_path}/x.db", "s") == tmp_path / "x.db.checkpoints" / "s"


def test_second_search_on_a_locked_real_study_is_refused(tmp_path):
    """A real-training search holds the single-process lock: while another holder has it, a
    second search of the same study is refused with StudyInUseError and writes no trial."""
    storage = str(tmp_path / "r.journal")
    holder = StudyRunLock.acquire(storage, "locked")
    try:
        with pytest.raises(StudyInUseError, match=r"'locked' .* is being searched by another"):
            run_real_search(max_trials=1, seed=0, storage=storage, study_name="locked", **TINY)
    finally:
        holder.release()
    r = run_real_search(max_trials=1, seed=0, storage=storage, study_name="locked", **TINY)
    assert r.n_trained == 1
    assert StudyRunLock.acquire(storage, "locked").release() is None  # released at the end
