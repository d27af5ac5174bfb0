"""The state and bracket loop of one multi-fidelity search (``run_multifidelity``).

See ``predictor_nas.multifidelity._run`` for the method and the ledger: every evaluation is one
trial of the study, and a resumed search replays the decisions of an uninterrupted one.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import FrozenTrial, TrialState

from predictor_nas.evaluators import FidelityEvaluator, Observation
from predictor_nas.exceptions import StudyConfigMismatchError
from predictor_nas.multifidelity._brackets import Bracket
from predictor_nas.multifidelity._estimates import _PromotionEstimates
from predictor_nas.multifidelity._settings import _seed, promotion_order
from predictor_nas.predictors import make_predictor
from predictor_nas.samplers import CandidatePool, draw_unused, fit_and_rank, mutants
from predictor_nas.search import Budget
from predictor_nas.spaces import Arch


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
class _Search(_PromotionEstimates):
    """State of one search: the evaluations so far (replayed from the ledger or new), the
    calibration records, and the bracket loop (promotion scores: ``_PromotionEstimates``)."""

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

