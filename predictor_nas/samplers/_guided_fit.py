"""One proposal of ``PredictorGuidedSampler``: read the trials, warm up or build the pool, fit
the predictor (kriging believer for pending trials) and take the acquisition's best candidate.

``_GuidedProposal`` is that part of the sampler (``predictor_nas.samplers._guided``, whose class
docstring describes the method); the candidates come from ``_GuidedPool``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._lazy import scipy_stats, xgboost
from predictor_nas.predictors import make_predictor
from predictor_nas.samplers._acquisition import acquisition_scores, best_index
from predictor_nas.samplers._guided_pool import Codes, _GuidedPool
from predictor_nas.samplers._priors import ScoreFeatures, Scorer
from predictor_nas.samplers._space_sampler import observed_targets

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

    from predictor_nas.predictors import Predictor


class _GuidedProposal(_GuidedPool):
    """The proposal and the predictor fits of ``PredictorGuidedSampler`` (a mixin: it reads the
    sampler's settings and state below)."""

    predictor: str | Callable[[int], Predictor] | Predictor
    predictor_kwargs: dict[str, Any]
    acquisition: str
    warmup: str
    local_search: bool
    climb_scorer: Scorer | None
    restart: str
    target: str
    transfer: Scorer | None
    ucb_kappa: float
    refit_growth: float | None
    refit_start: int
    _predictor_seed: int
    _dists: dict[str, BaseDistribution]
    _fit_cache: tuple[Any, Any] | None

    def _codes(self, params: Mapping[str, Any]) -> Codes | None:
        """Integer codes of a trial's params, or None if it lacks a decision / is invalid."""
        if not self._plain:
            try:
                arch = self.space.from_params({n: v for n, v in params.items() if n in self._dists})
                return self.space.to_codes(arch)
            except ValueError:  # InvalidArchitectureError: another space's or a broken trial
                return None
        index = self._cache.index
        try:
            return tuple(index[params[n]] for n in self._names)
        except (KeyError, TypeError):
            return None

    def _propose(self, study: Study, trial: FrozenTrial) -> tuple[Codes, str]:
        pending: list[Codes] = []
        used: set[str] = set()
        maximize = study.direction == StudyDirection.MAXIMIZE
        seen: list[tuple[Codes, FrozenTrial]] = []
        for t in study.get_trials(deepcopy=False):
            if t.state == TrialState.FAIL or t.number == trial.number:
                continue
            c = self._codes(t.params)
            if c is None:
                continue
            used.add(self._cache.key(c))
            if t.state in (TrialState.RUNNING, TrialState.WAITING):
                pending.append(c)
            else:
                seen.append((c, t))
        # Every trial with a target: complete, or pruned with its censored value (see
        # ``observed_targets``); named "complete" below as in the class docstring.
        targets = observed_targets([t for _, t in seen], maximize)
        complete = [(c, v) for (c, _), v in zip(seen, targets) if v is not None]
        if len(complete) < self.n_warmup:
            if self.warmup == "proxy":
                return self._proxy_unused(used), "warmup"
            return self._random_unused(used), "warmup"

        kind = "local"
        candidates = self._local(complete, used) if self.local_search else []
        if not candidates:
            if self.local_search and self.restart == "random":
                kind, candidates = "restart", self._unique(self._draw(self.n_candidates), used)
            else:
                kind, candidates = "predictor", self._candidates(complete, used)
        if not candidates:
            return self._random_unused(used), "fallback"
        if kind == "local" and self.climb_scorer is not None:
            return self._top_scored(self.climb_scorer, candidates, "climb"), kind
        if len(candidates) == 1:
            return candidates[0], kind  # nothing to rank: skip the fit
        values = np.array([v for _, v in complete], dtype=np.float64)
        m = self._fit_size(len(values))
        y = self._transform(values[:m])
        with self._xgb_threads():
            model = self._fit([c for c, _ in complete[:m]], y, pending)
            pred = model.predict(self._inputs(candidates))
        best = float((y if m == len(values) else self._transform(values)).max())
        scores = acquisition_scores(
            self.acquisition, pred.mean, pred.std, best=best, rng=self._rng, kappa=self.ucb_kappa
        )
        return candidates[best_index(scores, pred.mean)], kind

    def _fit_size(self, n: int) -> int:
        """How many of the ``n`` trials with a target the predictor is fitted on (the first
        ones): ``n`` below ``refit_start`` (or with ``refit_growth=None``), else
        ``max(refit_start, n - n % floor(n * refit_growth))`` (class docstring)."""
        if self.refit_growth is None or n < self.refit_start:
            return n
        step = max(1, int(n * self.refit_growth))
        return max(self.refit_start, n - n % step)

    def _xgb_threads(self) -> contextlib.AbstractContextManager:
        """XGBoost's global thread count set to the predictor's ``n_jobs`` (default 1).

        ``XGBRegressor(n_jobs=1)`` still sets the labels of its ``QuantileDMatrix`` through a
        proxy matrix that uses XGBoost's global ``nthread=0`` (every core): on a busy machine
        the OpenMP workers spin ~7 ms of CPU per ensemble member, ~40% of a proposal.
        """
        if "xgboost" not in sys.modules and self.predictor not in ("xgb", "ensemble"):
            return contextlib.nullcontext()

        return xgboost.config_context(nthread=int(self.predictor_kwargs.get("n_jobs", 1)))

    def _new_predictor(self, seed: int | None = None) -> Predictor:
        """A new unfitted predictor, seeded ``seed`` (default: this instance's)."""
        seed = self._predictor_seed if seed is None else seed
        if isinstance(self.predictor, str):
            kwargs = {"space": self.space, **self.predictor_kwargs}
            if self.transfer is not None:
                kwargs["extra"] = ScoreFeatures(self.transfer, base=kwargs.get("extra"))
            return make_predictor(self.predictor, seed=seed, **kwargs)
        if _is_predictor(self.predictor):
            return copy.deepcopy(self.predictor)  # never refit the caller's object in place
        return self.predictor(seed)  # type: ignore[operator,misc]

    def _transform(self, y: np.ndarray) -> np.ndarray:
        """The fit's targets, shape (n,): raw, or ranks scaled to [0, 1]."""
        if self.target == "rank":
            return (scipy_stats.rankdata(y) - 1.0) / max(len(y) - 1, 1)
        return y

    def _fit(self, codes: Sequence[Codes], y: np.ndarray, pending: Sequence[Codes]) -> Predictor:
        """Fit on the complete trials' (n,) codes and targets, then (if any) again with the
        pending ones at the mean predicted for them (kriging believer).

        The fit on the complete trials is cached on the instance and reused while they are
        unchanged, e.g. by a worker whose later proposals only add pending trials. A fit on
        ``refit_start`` trials or more with ``refit_growth`` set (``m >= refit_start`` exactly
        when ``n >= refit_start``) is seeded from its training data instead of the instance's
        seed, and kept in a small process-wide cache for every instance with the same
        settings: ``run_search`` builds a fresh sampler per query, and those reuse the fit
        until the next refit; a resumed search refits the same model (class docstring).
        """
        shared = self.refit_growth is not None and len(codes) >= self.refit_start
        key = (tuple(codes), y.tobytes(), shared)
        if self._fit_cache is not None and self._fit_cache[0] == key:
            model = self._fit_cache[1]
        elif shared:
            model = self._shared_fit(codes, y)
        else:
            model = self._new_predictor().fit(self._inputs(codes), y)
        self._fit_cache = (key, model)
        if not pending:
            return model
        archs = self._inputs(codes)
        extra = self._inputs(pending)
        believed = model.predict(extra).mean
        return self._new_predictor().fit([*archs, *extra], np.concatenate([y, believed]))

    def _shared_fit(self, codes: Sequence[Codes], y: np.ndarray) -> Predictor:
        """The fit on ``codes`` and ``y`` seeded by their digest, from ``_SHARED_FITS``."""
        digest = hashlib.blake2b(repr(list(codes)).encode(), digest_size=16)
        digest.update(y.tobytes())
        settings, refs = self._settings_key()
        key = (settings, digest.digest())
        with _SHARED_LOCK:
            hit = _SHARED_FITS.get(key)
            if hit is not None:
                _SHARED_FITS.move_to_end(key)
                return hit[1]
        seed = int.from_bytes(digest.digest()[:4], "little") % 2**31
        model = self._new_predictor(seed).fit(self._inputs(codes), y)
        with _SHARED_LOCK:
            _SHARED_FITS[key] = (refs, model)
            while len(_SHARED_FITS) > _SHARED_FITS_MAX:
                _SHARED_FITS.popitem(last=False)
        return model

    def _settings_key(self) -> tuple[tuple, tuple]:
        """What a predictor's fit depends on besides its data and seed, as a hashable key, and
        the objects the key names by ``id`` (held by the cache entry, so no other object can
        take their ids while it lives)."""
        refs: list[Any] = [self.space, self.predictor, self.transfer]

        def part(value: Any) -> Any:
            if value is None or isinstance(value, (str, int, float, bool)):
                return value
            refs.append(value)
            return ("id", id(value))

        kwargs = tuple((k, part(v)) for k, v in sorted(self.predictor_kwargs.items()))
        settings = (id(self.space), part(self.predictor), part(self.transfer), kwargs)
        return settings, tuple(refs)


#: Process-wide cache of ``shared`` fits: (settings, digest of the data) -> (refs, model).
_SHARED_FITS: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
_SHARED_FITS_MAX = 4
_SHARED_LOCK = threading.Lock()


def _is_predictor(obj: Any) -> bool:
    return hasattr(obj, "fit") and hasattr(obj, "predict") and not isinstance(obj, type)
