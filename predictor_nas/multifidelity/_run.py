"""Multi-fidelity search (successive halving / Hyperband) as an Optuna study.

One search combines three choices:

* **schedule** - ``"hyperband"`` (brackets s = s_max..0, repeated), ``"successive_halving"``
  (bracket s_max, repeated) or ``"full"`` (one architecture at a time at full fidelity: the
  single-fidelity baselines);
* **proposer** - how a bracket's first rung is filled: ``"random"`` (uniform, unseen archs) or
  ``"predictor"`` (BANANAS-style: an accuracy predictor fitted on the final values seen so far,
  plus extrapolated final values of archs seen only at low fidelity, scores a pool of mutations
  of the best archs and random archs by expected improvement; the top ones are proposed);
* **promotion** - who goes up a rung: ``"observed"`` (best value at the rung, classic successive
  halving) or ``"curve"`` (best *predicted final* value: the partial result extrapolated to the
  final fidelity - a learned curve model on curves, a learned low->final line on NB201's two
  fidelities - merged with the predictor's estimate made when the arch was proposed, both
  Gaussians with std calibrated on the search's own past errors).

``METHODS`` names the combinations the benchmark compares (``"mf"`` = Hyperband + predictor +
curve). The budget is simulated training seconds (the evaluator's costs); an evaluation that
continues an earlier run of the same arch pays only the extra epochs where the evaluator allows
it (NB301 surrogate) and the full cost otherwise (NB201 tables).

**The study is the ledger.** Every evaluation is one trial, added whole (``study.add_trial``) once
its result is known: params = the arch's active decisions; user attrs ``step``, ``arch``,
``canonical_key``, ``fidelity``, ``bracket``, ``bracket_s``, ``rung``, ``cost_s`` (charged),
``cost_total_s`` (from scratch) and, for predictor proposals, ``predicted_mean`` /
``predicted_std``; intermediate values = the revealed learning curve. Evaluations below the
final fidelity are PRUNED trials (value = their value at that fidelity), final ones COMPLETE, so
``study.best_trial`` is the best fully trained arch. **Resuming** replays the algorithm from the
start: every random choice comes from a generator seeded by (seed, bracket), model fits are
deterministic, and an evaluation already in the ledger is read back instead of recomputed - so a
resumed search makes exactly the decisions of an uninterrupted one (a ledger that disagrees with
the replay raises ``StudyConfigMismatchError``).
"""

from __future__ import annotations

import copy
import itertools
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import check_choice, check_int, param_error
from predictor_nas.curves import CURVE_MODELS, make_curve_model
from predictor_nas.evaluators import FidelityEvaluator, Observation
from predictor_nas.exceptions import StudyConfigMismatchError
from predictor_nas.multifidelity._brackets import (
    Bracket,
    Rung,
    hyperband_brackets,
    successive_halving_bracket,
)
from predictor_nas.multifidelity._promotion import (
    LinearFidelityMapping,
    calibration_scale,
    combine_gaussians,
)
from predictor_nas.samplers._pool import CandidatePool, draw_unused, fit_and_rank, mutants
from predictor_nas.search._study import Budget, Progress, open_study
from predictor_nas.spaces import Arch

log = logging.getLogger(__name__)

OWNER = "run_multifidelity"
CONFIG_ATTR = "predictor_nas_multifidelity_config"
SCHEDULES = ("hyperband", "successive_halving", "full")
PROPOSERS = ("predictor", "random")
PROMOTIONS = ("curve", "observed")

#: Named (schedule, proposer, promotion) combinations.
METHODS: dict[str, tuple[str, str, str]] = {
    "mf": ("hyperband", "predictor", "curve"),
    "mf-sh": ("successive_halving", "predictor", "curve"),
    "hyperband": ("hyperband", "random", "observed"),
    "sh": ("successive_halving", "random", "observed"),
    "guided": ("full", "predictor", "observed"),
    "random": ("full", "random", "observed"),
}
METHOD_HELP: dict[str, str] = {
    "mf": "Hyperband; predictor-proposed brackets; promotions by predicted final value",
    "mf-sh": "successive halving; predictor-proposed; promotions by predicted final value",
    "hyperband": "plain Hyperband: random proposals, promotions by observed value",
    "sh": "plain successive halving: random proposals, promotions by observed value",
    "guided": "single fidelity: predictor-guided (EI), one arch at a time at full fidelity",
    "random": "single fidelity: random search at full fidelity",
}
#: Predictor settings of the guided strategy (``search._strategies.GUIDED_KWARGS``).
DEFAULT_PREDICTOR_KWARGS: dict[str, Any] = {"n_estimators": 150}
#: Calibration needs this many (estimate, later-observed final value) pairs.
MIN_CALIBRATION = 5
#: Pairs (low, final) the NB201 low->final line needs.
MIN_PAIRS = 5
#: The learned curve model is refitted when the corpus of full curves grew by this factor.
REFIT_GROWTH = 1.25


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def method_settings(method: str) -> tuple[str, str, str]:
    """(schedule, proposer, promotion) of a named method."""
    check_choice(method, "method", OWNER, METHODS)
    return METHODS[method]


def schedule_brackets(
    schedule: str, evaluator: FidelityEvaluator, *, eta: int = 3, min_fidelity: int | None = None
) -> list[Bracket]:
    """The brackets a schedule cycles through on ``evaluator``'s fidelities.

    ``"full"`` is one rung of one architecture at the maximum fidelity.
    """
    check_choice(schedule, "schedule", OWNER, SCHEDULES)
    top = evaluator.max_fidelity
    if schedule == "full":
        return [Bracket(s=0, rungs=(Rung(fidelity=top, n_configs=1),))]
    low = evaluator.min_fidelity if min_fidelity is None else min_fidelity
    low = evaluator.check_fidelity(low, OWNER) if evaluator.levels is None else low
    if evaluator.levels is not None and low not in evaluator.levels:
        raise param_error("min_fidelity", OWNER, f"one of {list(evaluator.levels)}", low)
    if schedule == "hyperband":
        return hyperband_brackets(top, low, eta, evaluator.levels)
    return [successive_halving_bracket(top, low, eta, evaluator.levels)]


def promotion_order(score: np.ndarray, observed: np.ndarray, keep: int) -> np.ndarray:
    """Indices of the ``keep`` members promoted: highest ``score`` first, ties broken by the
    higher observed value, then by rung order.

    Args:
        score: (n,) promotion scores (predicted final values, or the observed values).
        observed: (n,) values observed at the rung.
        keep: How many go up (clipped to n).

    Returns:
        int64 array (min(keep, n),).
    """
    s = np.asarray(score, dtype=np.float64)
    o = np.asarray(observed, dtype=np.float64)
    return np.lexsort((np.arange(len(s)), -o, -s))[: max(int(keep), 0)].astype(np.int64)


# --------------------------------------------------------------------------- results
@dataclass
class MultiFidelityResult:
    """Outcome of a multi-fidelity search; ``to_dict`` gives the CLI's JSON object.

    Attributes:
        best_arch: Incumbent: best observed value among the evaluations at the highest fidelity
            reached (the final fidelity once any arch got there). Chosen by validation only.
        best_fidelity: Fidelity at which the incumbent was chosen.
        best_val_observed: Its value at that fidelity.
        best_val: Its true value at the final fidelity (table mean / surrogate prediction).
        best_test: Its test accuracy at the final fidelity where the benchmark has one.
        optimum_val: Best final value of the whole space when known (tables), else None.
        regret_val: ``optimum_val - best_val`` when known, else None.
        n_evaluations: Evaluations (trials) made, promotions included.
        n_full_evaluations: Evaluations at the final fidelity.
        n_archs: Distinct architectures evaluated.
        simulated_seconds: Charged simulated training seconds.
        ladder: Rung fidelities of the schedule.
        trajectory_cost_s: (n_evaluations,) cumulative simulated seconds after each evaluation.
        trajectory_val: (n_evaluations,) ``best_val`` of the incumbent after each evaluation.
        trajectory_test: (n_evaluations,) its test accuracy (None where the benchmark has none).
        stop_reason: Why the search stopped, e.g. ``"time budget of 20000 s reached after 61
            evaluations (20130.0 s spent)"``.
    """

    best_arch: str
    best_fidelity: int
    best_val_observed: float
    best_val: float
    best_test: float | None
    optimum_val: float | None
    regret_val: float | None
    n_evaluations: int
    n_full_evaluations: int
    n_archs: int
    simulated_seconds: float
    method: str
    schedule: str
    proposer: str
    promotion: str
    eta: int
    ladder: list[int]
    seed: int
    benchmark: dict[str, Any]
    study_name: str
    storage: str
    resumed_from: int
    wall_seconds: float
    stop_reason: str | None = None
    trajectory_cost_s: list[float] = field(default_factory=list, repr=False)
    trajectory_val: list[float] = field(default_factory=list, repr=False)
    trajectory_test: list[float | None] = field(default_factory=list, repr=False)

    def to_dict(self, *, trajectory: bool = False) -> dict[str, Any]:
        """JSON-able dict; the trajectories are left out unless asked for."""
        d = asdict(self)
        if not trajectory:
            for k in ("trajectory_cost_s", "trajectory_val", "trajectory_test"):
                d.pop(k)
        return d

    def val_at(self, seconds: float) -> float:
        """Incumbent's final value once ``seconds`` simulated seconds were spent (NaN before the
        first evaluation finished)."""
        i = int(np.searchsorted(np.asarray(self.trajectory_cost_s), seconds, side="right")) - 1
        return float(self.trajectory_val[i]) if i >= 0 else math.nan

    def test_at(self, seconds: float) -> float:
        """Incumbent's test accuracy at ``seconds`` (NaN before any result or without test)."""
        i = int(np.searchsorted(np.asarray(self.trajectory_cost_s), seconds, side="right")) - 1
        v = self.trajectory_test[i] if i >= 0 else None
        return math.nan if v is None else float(v)


@dataclass
class _Eval:
    """One evaluation in the search's memory (mirrors one ledger trial)."""

    step: int
    arch: Arch
    key: str
    bracket: int
    s: int
    rung: int
    fidelity: int
    value: float
    curve: dict[int, float]
    cost: float
    cost_total: float
    pred_mean: float | None = None
    pred_std: float | None = None


class _BudgetSpentError(Exception):
    """The budget is spent."""


# --------------------------------------------------------------------------- the search
class _Search:
    """State of one search: the evaluations so far (replayed from the ledger or new), the
    calibration records, and the bracket loop."""

    def __init__(
        self,
        evaluator: FidelityEvaluator,
        *,
        study: optuna.Study,
        brackets: list[Bracket],
        proposer: str,
        promotion: str,
        seed: int,
        limits: Budget,
        predictor: str,
        predictor_kwargs: Mapping[str, Any],
        n_warmup: int,
        n_candidates: int,
        n_parents: int,
        n_mutations_per_parent: int,
        curve_model: str,
        bar: Any,
    ) -> None:
        self.ev = evaluator
        self.space = evaluator.space
        self.study = study
        self.brackets = brackets
        self.proposer = proposer
        self.promotion = promotion
        self.seed = seed
        self.limits = limits
        #: Why the search stopped (set when the budget is found spent).
        self.stop_reason: str | None = None
        self.predictor = predictor
        self.predictor_kwargs = dict(predictor_kwargs)
        self.n_warmup = n_warmup
        self.n_candidates = n_candidates
        self.n_parents = n_parents
        self.n_mutations_per_parent = n_mutations_per_parent
        self.curve_model = curve_model
        self.bar = bar
        self.top = evaluator.max_fidelity
        self.evals: list[_Eval] = []
        self.by_key: dict[str, list[_Eval]] = {}
        self.final: dict[str, float] = {}
        #: (mean, calibrated std) of the extrapolated final value of archs not (yet) trained to
        #: the end.
        self.extrapolated: dict[str, tuple[float, float]] = {}
        #: fidelity -> [(key, mean, raw std)] of the curve estimates made at that rung.
        self.curve_estimates: dict[int, list[tuple[str, float, float]]] = {}
        self._curve_cache: tuple[int, Any] | None = None
        self.spent = 0.0
        self.ledger = {
            int(t.user_attrs["step"]): t
            for t in study.get_trials(
                deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)
            )
            if "step" in t.user_attrs
        }
        self.resumed_from = len(self.ledger)
        self.study_attrs = set(study.user_attrs)
        self.distributions = {
            p: CategoricalDistribution(list(self.space.param_choices(p)))
            for p in self.space.param_names
        }

    # ----------------------------------------------------------------- budget
    def _exhausted(self) -> bool:
        self.stop_reason = self.limits.stop_reason(
            queries=len(self.evals), simulated_seconds=self.spent
        )
        return self.stop_reason is not None

    # ----------------------------------------------------------------- main loop
    def run(self) -> None:
        b = 0
        try:
            while True:
                self._bracket(b, self.brackets[b % len(self.brackets)])
                b += 1
        except _BudgetSpentError:
            pass

    def _bracket(self, b: int, bracket: Bracket) -> None:
        first = bracket.rungs[0]
        members, preds = self._proposals(b, first.n_configs)
        for i, rung in enumerate(bracket.rungs):
            evals = self._evaluate_rung(members, preds, b, bracket.s, i, rung.fidelity)
            if i + 1 == len(bracket.rungs):
                return
            keep = bracket.rungs[i + 1].n_configs
            score = self._promotion_scores(evals)
            observed = np.array([e.value for e in evals])
            order = promotion_order(score, observed, keep)
            self._log_promotion(b, i, evals, score, order)
            members = [evals[j].arch for j in order]
            preds = [(evals[j].pred_mean, evals[j].pred_std) for j in order]

    def _log_promotion(
        self, b: int, rung: int, evals: Sequence[_Eval], score: np.ndarray, order: np.ndarray
    ) -> None:
        """Store the decision as study user attr ``promotion:<bracket>:<rung>``: the rung's
        steps, their scores (predicted final values, or observed ones) and the promoted steps."""
        name = f"promotion:{b}:{rung}"
        if name in self.study_attrs:  # replay
            return
        self.study.set_user_attr(
            name,
            {
                "steps": [e.step for e in evals],
                "scores": [float(v) for v in score],
                "promoted": [evals[j].step for j in order],
            },
        )
        self.study_attrs.add(name)

    # ----------------------------------------------------------------- proposals
    def _stored_proposals(self, n: int) -> list[FrozenTrial] | None:
        step = len(self.evals)
        stored = [self.ledger.get(step + j) for j in range(n)]
        return stored if all(t is not None for t in stored) else None

    def _proposals(
        self, b: int, n: int
    ) -> tuple[list[Arch], list[tuple[float | None, float | None]]]:
        if self._exhausted():
            raise _BudgetSpentError
        stored = self._stored_proposals(n)
        if stored is not None:  # replay: the ledger holds the whole first rung
            archs = [self.space.parse(t.user_attrs["arch"]) for t in stored]
            preds = [
                (t.user_attrs.get("predicted_mean"), t.user_attrs.get("predicted_std"))
                for t in stored
            ]
            return archs, preds
        rng = np.random.default_rng(_seed(self.seed, b, 1))
        used = set(self.by_key)
        if self.proposer == "random":
            return self._random_unused(n, used, rng), [(None, None)] * n
        archs, y = self._training_set()
        if len(archs) < self.n_warmup:
            return self._random_unused(n, used, rng), [(None, None)] * n
        model = self._new_predictor().fit(archs, y)
        order = sorted(range(len(archs)), key=lambda i: (-y[i], i))
        parents = [archs[i] for i in order[: self.n_parents]]
        pool = self._candidates(parents, used, rng, max(self.n_candidates, 4 * n))
        if not pool:
            return self._random_unused(n, used, rng), [(None, None)] * n
        pick, mean, std = fit_and_rank(model, None, y, pool, n, acquisition="ei")
        std = np.zeros(len(pool)) if std is None else std
        chosen = [pool[i] for i in pick]
        out = [(float(mean[i]), float(std[i])) for i in pick]
        if len(chosen) < n:
            extra = self._random_unused(n - len(chosen), used | {self._key(a) for a in chosen}, rng)
            chosen += extra
            out += [(None, None)] * len(extra)
        return chosen, out

    def _key(self, arch: Arch) -> str:
        return self.space.canonical_key(arch)

    def _random_unused(self, n: int, used: set[str], rng: np.random.Generator) -> list[Arch]:
        """``n`` distinct unused random archs (``1000 * n`` draws), then repeats if need be."""
        out = draw_unused(lambda: self.space.sample(rng), self._key, used, n=n, tries=1000 * n)
        while len(out) < n:  # (almost) exhausted space: repeats allowed
            out.append(self.space.sample(rng))
        return out

    def _candidates(
        self, parents: Sequence[Arch], used: set[str], rng: np.random.Generator, size: int
    ) -> list[Arch]:
        """At most ``size`` mutations of ``parents`` (1 and 2 edits in turn), then uniform
        random archs up to ``size`` draws in all; unused keys only, one per key."""
        pool = CandidatePool(self._key, used)
        kids = list(itertools.islice(
            mutants(self.space, parents, self.n_mutations_per_parent, rng), size
        ))
        pool.extend(kids)
        for _ in range(max(size - len(kids), 0)):
            pool.add(self.space.sample(rng))
        return pool.items

    def _new_predictor(self) -> Any:
        from predictor_nas.predictors import make_predictor

        kwargs = {"space": self.space, **copy.deepcopy(self.predictor_kwargs)}
        return make_predictor(self.predictor, seed=_seed(self.seed, 0x505245) % 2**31, **kwargs)

    def _training_set(self) -> tuple[list[Arch], np.ndarray]:
        """Archs with a final value, plus archs whose extrapolated final value is informative.

        An extrapolation counts when its calibrated std is below the spread (std) of the final
        values seen so far, i.e. it says more than "an average architecture".
        """
        finals = np.array(list(self.final.values()))
        spread = float(finals.std()) if len(finals) >= 2 else 0.0
        archs, y = [], []
        for key, evs in self.by_key.items():
            if key in self.final:
                v = self.final[key]
            elif key in self.extrapolated and self.extrapolated[key][1] < spread:
                v = self.extrapolated[key][0]
            else:
                continue
            archs.append(evs[0].arch)
            y.append(v)
        return archs, np.asarray(y, dtype=np.float64)

    # ----------------------------------------------------------------- evaluation
    def _evaluate_rung(
        self,
        members: Sequence[Arch],
        preds: Sequence[tuple[float | None, float | None]],
        b: int,
        s: int,
        rung: int,
        fidelity: int,
    ) -> list[_Eval]:
        start = len(self.evals)
        todo = [a for j, a in enumerate(members) if start + j not in self.ledger]
        fresh: dict[tuple[str, ...], Observation] = {}
        if todo and not self._exhausted():
            fresh = {a.ops: o for a, o in zip(todo, self.ev.observe(todo, fidelity))}
        out = []
        for arch, (pm, ps) in zip(members, preds):
            if self._exhausted():
                raise _BudgetSpentError
            step = len(self.evals)
            key = self._key(arch)
            trial = self.ledger.get(step)
            if trial is not None:
                ev = self._from_trial(trial, step, arch, fidelity)
            else:
                obs = fresh[arch.ops]
                prev = max((e.fidelity for e in self.by_key.get(key, [])), default=0)
                cost = obs.cost_total
                if self.ev.continues and prev:
                    prev_total = max(e.cost_total for e in self.by_key[key] if e.fidelity == prev)
                    cost = max(obs.cost_total - prev_total, 0.0)
                ev = _Eval(
                    step=step,
                    arch=arch,
                    key=key,
                    bracket=b,
                    s=s,
                    rung=rung,
                    fidelity=fidelity,
                    value=obs.value,
                    curve=dict(obs.curve),
                    cost=cost,
                    cost_total=obs.cost_total,
                    pred_mean=pm,
                    pred_std=ps,
                )
                self._record(ev)
            self._remember(ev)
            out.append(ev)
        return out

    def _from_trial(self, t: FrozenTrial, step: int, arch: Arch, fidelity: int) -> _Eval:
        ua = t.user_attrs
        if ua.get("arch") != self.space.format(arch) or ua.get("fidelity") != fidelity:
            raise StudyConfigMismatchError(
                f"Study {self.study.study_name!r} disagrees with this search at step {step}: the "
                f"ledger has {ua.get('arch')!r} at {ua.get('fidelity')} epochs, the replay "
                f"{self.space.format(arch)!r} at {fidelity}. Use another study name."
            )
        return _Eval(
            step=step,
            arch=arch,
            key=str(ua["canonical_key"]),
            bracket=int(ua["bracket"]),
            s=int(ua["bracket_s"]),
            rung=int(ua["rung"]),
            fidelity=fidelity,
            value=float(t.value if t.value is not None else t.intermediate_values[fidelity]),
            curve={int(k): float(v) for k, v in t.intermediate_values.items()},
            cost=float(ua["cost_s"]),
            cost_total=float(ua["cost_total_s"]),
            pred_mean=ua.get("predicted_mean"),
            pred_std=ua.get("predicted_std"),
        )

    def _record(self, ev: _Eval) -> None:
        attrs: dict[str, Any] = {
            "step": ev.step,
            "arch": self.space.format(ev.arch),
            "canonical_key": ev.key,
            "fidelity": ev.fidelity,
            "bracket": ev.bracket,
            "bracket_s": ev.s,
            "rung": ev.rung,
            "cost_s": ev.cost,
            "cost_total_s": ev.cost_total,
        }
        if ev.pred_mean is not None:
            attrs["predicted_mean"] = ev.pred_mean
            attrs["predicted_std"] = ev.pred_std
        params = self.space.to_params(ev.arch)
        trial = optuna.trial.create_trial(
            params=params,
            distributions={p: self.distributions[p] for p in params},
            value=ev.value,
            state=TrialState.COMPLETE if ev.fidelity == self.top else TrialState.PRUNED,
            intermediate_values=ev.curve,
            user_attrs=attrs,
        )
        self.study.add_trial(trial)

    def _remember(self, ev: _Eval) -> None:
        self.evals.append(ev)
        self.by_key.setdefault(ev.key, []).append(ev)
        if ev.fidelity == self.top:
            self.final[ev.key] = ev.value
            self.extrapolated.pop(ev.key, None)
        self.spent += ev.cost
        self.bar.advance(ev.cost)

    # ----------------------------------------------------------------- promotions
    def _promotion_scores(self, evals: Sequence[_Eval]) -> np.ndarray:
        observed = np.array([e.value for e in evals], dtype=np.float64)
        if self.promotion == "observed":
            return observed
        fidelity = evals[0].fidelity
        if self.ev.has_curves:
            mean, std = self._curve_estimate(evals, fidelity)
        else:
            mean, std = self._mapping_estimate(evals, fidelity)
        if std is None:
            return mean
        for e, m, sd in zip(evals, mean, std):
            self.extrapolated[e.key] = (float(m), float(sd))
        pm = np.array([np.nan if e.pred_mean is None else e.pred_mean for e in evals])
        ps = np.array([np.nan if e.pred_std is None else e.pred_std for e in evals])
        scale = self._predictor_scale()
        if scale is None or np.all(np.isnan(pm)):
            return mean
        combined, _ = combine_gaussians(mean, std, pm, ps * scale)
        return combined

    def _predictor_scale(self) -> float | None:
        """Calibration of the predictor's std on archs that reached the final fidelity, using
        the prediction made when each was first proposed."""
        rows = {}
        for e in self.evals:
            if e.pred_mean is not None and e.key in self.final and e.key not in rows:
                rows[e.key] = (e.pred_mean, e.pred_std, self.final[e.key])
        if not rows:
            return None
        m, s, o = zip(*rows.values())
        return calibration_scale(m, s, o, min_count=MIN_CALIBRATION)

    def _mapping_estimate(
        self, evals: Sequence[_Eval], fidelity: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """NB201-style: a line from the value at ``fidelity`` to the final value."""
        observed = np.array([e.value for e in evals], dtype=np.float64)
        low, high = [], []
        for key, evs in self.by_key.items():
            at = [e.value for e in evs if e.fidelity == fidelity]
            if at and key in self.final:
                low.append(at[0])
                high.append(self.final[key])
        if len(low) < MIN_PAIRS:
            return observed, None
        pred = LinearFidelityMapping(min_pairs=MIN_PAIRS).fit(low, high).predict(observed)
        return pred.mean, pred.std

    def _curve_estimate(
        self, evals: Sequence[_Eval], fidelity: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """A curve model extrapolates each prefix 1..fidelity to the final epoch; the std is
        rescaled by the z-scores of this rung's earlier estimates (None until calibrated)."""
        partial = np.array([[e.curve[t] for t in range(1, fidelity + 1)] for e in evals])
        model = self._fitted_curve_model()
        pred = model.predict_final(partial, final_epoch=self.top)
        past = self.curve_estimates.setdefault(fidelity, [])
        rows = [(m, s, self.final[k]) for k, m, s in past if k in self.final]
        past.extend((e.key, float(m), float(s)) for e, m, s in zip(evals, pred.mean, pred.std))
        scale = None
        if rows:
            m, s, o = zip(*rows)
            scale = calibration_scale(m, s, o, min_count=MIN_CALIBRATION)
        if scale is None:
            return pred.mean, None
        return pred.mean, pred.std * scale

    def _fitted_curve_model(self) -> Any:
        """The curve model, refitted when the corpus of full curves grew by ``REFIT_GROWTH``
        (the parametric model uses no corpus and is fitted once)."""
        corpus = [
            [e.curve[t] for t in range(1, self.top + 1)]
            for e in self.evals
            if e.fidelity == self.top and len(e.curve) >= self.top
        ]
        m = len(corpus)
        if self._curve_cache is not None:
            fitted_at, model = self._curve_cache
            grown = m > fitted_at and m >= math.ceil(fitted_at * REFIT_GROWTH)
            if self.curve_model == "parametric" or not grown:
                return model
        model = make_curve_model(
            self.curve_model,
            np.array(corpus) if m else None,
            seed=_seed(self.seed, 0x435256) % 2**31,
        )
        self._curve_cache = (m, model)
        return model

    # ----------------------------------------------------------------- result
    def incumbents(self) -> list[int]:
        """Index into ``evals`` of the incumbent after each evaluation."""
        out, best = [], -1
        for i, e in enumerate(self.evals):
            if best < 0:
                best = i
            else:
                cur = self.evals[best]
                if e.fidelity > cur.fidelity or (
                    e.fidelity == cur.fidelity and e.value > cur.value
                ):
                    best = i
            out.append(best)
        return out


# --------------------------------------------------------------------------- public API
def default_mf_study_name(
    evaluator: FidelityEvaluator, schedule: str, proposer: str, promotion: str, eta: int, seed: int
) -> str:
    """Study name derived from the options, so that rerunning the same call resumes it."""
    d = evaluator.describe()
    bench = f"{d['table']}-{d['dataset']}" if d.get("kind") == "table" else str(d.get("kind"))
    return f"mf-{bench}-{schedule}-{proposer}-{promotion}-eta{eta}-seed{seed}"


def run_multifidelity(
    evaluator: FidelityEvaluator,
    *,
    method: str = "mf",
    time_budget: float | None = None,
    max_evaluations: int | None = None,
    eta: int = 3,
    min_fidelity: int | None = None,
    seed: int = 0,
    storage: str | None = None,
    study_name: str | None = None,
    schedule: str | None = None,
    proposer: str | None = None,
    promotion: str | None = None,
    predictor: str = "xgb",
    predictor_kwargs: Mapping[str, Any] | None = None,
    n_warmup: int = 10,
    n_candidates: int = 200,
    n_parents: int = 10,
    n_mutations_per_parent: int = 10,
    curve_model: str = "learned",
    progress: bool = False,
) -> MultiFidelityResult:
    """Run (or resume) a multi-fidelity search; see the module docstring.

    Args:
        evaluator: A ``FidelityEvaluator`` (``TableFidelityEvaluator`` for NB201 tables,
            ``SurrogateFidelityEvaluator`` for the NB301 surrogate).
        method: A name in ``METHODS``; ``schedule`` / ``proposer`` / ``promotion`` override its
            parts.
        time_budget: Simulated training seconds; the search stops before the first evaluation
            that starts with the budget spent (the last one may overshoot).
        max_evaluations: Also stop after this many evaluations (trials).
        eta: Keep ratio of successive halving (int >= 2).
        min_fidelity: Lowest rung fidelity (default: the evaluator's minimum).
        seed: Seed of every random choice and model; same seed, same search.
        storage: See ``predictor_nas.search.make_storage``; ``None`` = in memory.
        study_name: Defaults to ``default_mf_study_name(...)``.
        schedule: ``"hyperband"``, ``"successive_halving"`` or ``"full"``.
        proposer: ``"predictor"`` or ``"random"``.
        promotion: ``"curve"`` or ``"observed"``.
        predictor: Registered predictor name (``make_predictor``).
        predictor_kwargs: Its constructor arguments (default ``DEFAULT_PREDICTOR_KWARGS``).
        n_warmup: Archs with a (final or extrapolated) value before the predictor proposes.
        n_candidates: Candidate pool per proposal (at least 4x the rung size).
        n_parents: Best archs mutated into candidates.
        n_mutations_per_parent: Mutations per parent (alternately 1 and 2 edits).
        curve_model: ``"learned"``, ``"parametric"`` or ``"last-value"`` (benchmarks with curves).
        progress: Progress bar (simulated seconds) on stderr.

    Returns:
        The ``MultiFidelityResult`` of the whole study (including evaluations before a resume).
    """
    if not isinstance(evaluator, FidelityEvaluator):
        raise param_error("evaluator", OWNER, "a FidelityEvaluator", evaluator)
    sched, prop, promo = method_settings(method)
    sched = sched if schedule is None else check_choice(schedule, "schedule", OWNER, SCHEDULES)
    prop = prop if proposer is None else check_choice(proposer, "proposer", OWNER, PROPOSERS)
    promo = promo if promotion is None else check_choice(promotion, "promotion", OWNER, PROMOTIONS)
    limits = Budget.checked(
        OWNER, queries=max_evaluations, simulated_seconds=time_budget,
        names={"queries": "max_evaluations"},
        required=("time_budget", "a finite float > 0 when max_evaluations is not given"),
        unit="evaluations",
    )
    eta = check_int(eta, "eta", OWNER, minimum=2)
    seed = check_int(seed, "seed", OWNER, minimum=0)
    counts = {
        "n_warmup": check_int(n_warmup, "n_warmup", OWNER, minimum=2),
        "n_candidates": check_int(n_candidates, "n_candidates", OWNER, minimum=1),
        "n_parents": check_int(n_parents, "n_parents", OWNER, minimum=1),
        "n_mutations_per_parent": check_int(
            n_mutations_per_parent, "n_mutations_per_parent", OWNER, minimum=0
        ),
    }
    check_choice(curve_model, "curve_model", OWNER, CURVE_MODELS)
    if prop == "predictor":
        from predictor_nas.predictors import PREDICTORS

        check_choice(predictor, "predictor", OWNER, sorted(PREDICTORS))
    pkw = dict(DEFAULT_PREDICTOR_KWARGS if predictor_kwargs is None else predictor_kwargs)
    brackets = schedule_brackets(sched, evaluator, eta=eta, min_fidelity=min_fidelity)
    ladder = sorted({r.fidelity for br in brackets for r in br.rungs})
    config = {
        "benchmark": evaluator.describe(),
        "schedule": sched,
        "proposer": prop,
        "promotion": promo,
        "eta": eta,
        "ladder": ladder,
        "seed": seed,
        "predictor": predictor if prop == "predictor" else None,
        "predictor_kwargs": pkw if prop == "predictor" else None,
        **counts,
        "curve_model": curve_model if promo == "curve" and evaluator.has_curves else None,
    }
    name = study_name or default_mf_study_name(evaluator, sched, prop, promo, eta, seed)
    # Evaluations are added whole (``add_trial``): no trial is ever left RUNNING.
    study = open_study(
        storage=storage, name=name, config=_jsonable(config), attr=CONFIG_ATTR,
        creator="predictor-nas multifidelity", name_option="study name",
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed),
        interrupted=False,
    ).study
    bar = Progress(
        progress and time_budget is not None, total=time_budget, desc=f"{method} {name}", unit="s"
    )
    search = _Search(
        evaluator, study=study, brackets=brackets, proposer=prop, promotion=promo, seed=seed,
        limits=limits, predictor=predictor, predictor_kwargs=pkw, curve_model=curve_model,
        bar=bar, **counts,
    )
    t0 = time.perf_counter()
    with bar:
        search.run()
    wall = time.perf_counter() - t0
    return _result(search, method, sched, prop, promo, eta, ladder, seed, name, storage, wall)


def _jsonable(obj: Any) -> Any:
    """What a JSON storage gives back for ``obj`` (tuples become lists)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def _result(
    search: _Search,
    method: str,
    sched: str,
    prop: str,
    promo: str,
    eta: int,
    ladder: list[int],
    seed: int,
    name: str,
    storage: str | None,
    wall: float,
) -> MultiFidelityResult:
    evals = search.evals
    if not evals:
        raise param_error("time_budget", OWNER, "large enough for one evaluation", 0)
    inc = search.incumbents()
    distinct = sorted(set(inc))
    archs = [evals[i].arch for i in distinct]
    finals = dict(zip(distinct, search.ev.final_values(archs)))
    tests_arr = search.ev.test_values(archs)
    tests = dict(zip(distinct, tests_arr)) if tests_arr is not None else {}
    best = evals[inc[-1]]
    optimum = search.ev.optimum()
    best_val = float(finals[inc[-1]])

    def test_of(i: int) -> float | None:
        v = tests.get(i)
        return None if v is None or v != v else float(v)

    return MultiFidelityResult(
        best_arch=search.space.format(best.arch),
        best_fidelity=best.fidelity,
        best_val_observed=best.value,
        best_val=best_val,
        best_test=test_of(inc[-1]),
        optimum_val=optimum,
        regret_val=None if optimum is None else float(optimum - best_val),
        n_evaluations=len(evals),
        n_full_evaluations=sum(e.fidelity == search.top for e in evals),
        n_archs=len(search.by_key),
        simulated_seconds=float(search.spent),
        method=method,
        schedule=sched,
        proposer=prop,
        promotion=promo,
        eta=eta,
        ladder=ladder,
        seed=seed,
        benchmark=search.ev.describe(),
        study_name=name,
        storage=storage or "memory",
        resumed_from=search.resumed_from,
        wall_seconds=wall,
        stop_reason=search.stop_reason,
        trajectory_cost_s=[float(c) for c in np.cumsum([e.cost for e in evals])],
        trajectory_val=[float(finals[i]) for i in inc],
        trajectory_test=[test_of(i) for i in inc],
    )
