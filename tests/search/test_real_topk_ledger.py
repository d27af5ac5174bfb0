"""The topk real search's ledger, pinned: the sampler (TopKSampler) picks what _Planner picked.

The two sequences below were recorded on the code before the top-k step became a sampler
(commit 347422e, ``_Planner`` + ``enqueue_trial``): tiny NB201 nets on digits, one CPU thread.
"""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from predictor_nas.samplers import TopKSampler
from predictor_nas.search import make_storage, run_real_search
from predictor_nas.spaces import get_space

TINY = dict(width=4, depth=1, epochs=2, batch_size=128, num_threads=1, pool_size=60)
XGB_S0 = dict(max_trials=6, top_k=2, n_init=2, seed=0)
PRUNE_S1 = dict(max_trials=8, top_k=2, n_init=2, seed=1, epochs=3, prune_threshold=0.45,
                predictor="ridge")
C, P = "COMPLETE", "PRUNED"
#: (arch, state, round, rank, pred_mean) of each trained architecture, in trial order.
PINNED = {
    "xgb-s0": [
        ("|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
         C, 0, 0, None),
        ("|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|none~1|none~2|", C, 0, 1, None),
        ("|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_1x1~2|",
         C, 1, 0, 27.58164993899778),
        ("|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
         C, 1, 1, 27.58164993899778),
        ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
         C, 2, 0, 50.406865652277624),
        ("|avg_pool_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
         C, 2, 1, 50.406865652277624),
    ],
    "prune-s1": [
        ("|avg_pool_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
         "avg_pool_3x3~2|", C, 0, 0, None),
        ("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|", C, 0, 1, None),
        ("|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|avg_pool_3x3~2|",
         P, 1, 0, 89.66573333740234),
        ("|avg_pool_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|"
         "nor_conv_1x1~2|", P, 1, 1, 89.66573333740234),
        ("|avg_pool_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_1x1~1|"
         "nor_conv_1x1~2|", P, 2, 0, 92.85257720947266),
        ("|avg_pool_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|"
         "nor_conv_1x1~2|", P, 2, 1, 92.85257720947266),
        ("|avg_pool_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|"
         "nor_conv_1x1~2|", P, 3, 0, 97.02239990234375),
        ("|avg_pool_3x3~0|+|none~0|nor_conv_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|"
         "nor_conv_1x1~2|", P, 3, 1, 95.40475463867188),
    ],
}


def _ledger(storage: str, name: str) -> list[tuple]:
    study = optuna.load_study(study_name=name, storage=make_storage(storage))
    trials = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    return [
        (t.user_attrs["arch"], t.state.name, t.user_attrs["round"], t.user_attrs["rank"],
         t.user_attrs["pred_mean"])
        for t in sorted(trials, key=lambda t: t.number)
    ]


def _same(got: list[tuple], want: list[tuple]) -> None:
    assert [g[:4] for g in got] == [w[:4] for w in want]
    for g, w in zip(got, want):
        assert g[4] == (None if w[4] is None else pytest.approx(w[4], rel=1e-9))


@pytest.mark.parametrize("case, kw", [("xgb-s0", XGB_S0), ("prune-s1", PRUNE_S1)])
def test_topk_trains_the_pinned_architectures(tmp_path, case, kw):
    """Same seed, same trained archs, states, rounds, ranks and predictions as before the
    top-k step became a sampler (xgb/EI; ridge with pruned runs in the fit)."""
    storage = str(tmp_path / "s.journal")
    r = run_real_search(storage=storage, study_name="s", **{**TINY, **kw})
    assert r.rounds == len(PINNED[case]) // 2 and r.n_trained == len(PINNED[case])
    _same(_ledger(storage, "s"), PINNED[case])


def test_topk_resumes_a_crash_mid_round_to_the_pinned_ledger(tmp_path):
    """3 runs, then a trial the TopKSampler proposed left RUNNING (a process killed while
    training it), then a rerun: the ledger equals the uninterrupted pinned one."""
    storage = str(tmp_path / "s.journal")
    run_real_search(storage=storage, study_name="s", **{**TINY, **PRUNE_S1, "max_trials": 3})
    study = optuna.load_study(study_name="s", storage=make_storage(storage))
    study.sampler = TopKSampler(
        "nb201", seed=1, top_k=2, n_init=2, pool_size=60, predictor="ridge", epochs=3,
        max_target=100.0,
    )
    space = get_space("nb201")
    crashed = study.ask(space.distributions())
    assert (crashed.user_attrs["round"], crashed.user_attrs["rank"]) == (1, 1)
    assert space.format(space.from_params(crashed.params)) == PINNED["prune-s1"][3][0]
    r = run_real_search(storage=storage, study_name="s", **{**TINY, **PRUNE_S1})
    assert r.resumed_from == 3 and r.n_trained == 8
    _same(_ledger(storage, "s"), PINNED["prune-s1"])
    study = optuna.load_study(study_name="s", storage=make_storage(storage))
    assert study.trials[crashed.number].state == TrialState.FAIL
