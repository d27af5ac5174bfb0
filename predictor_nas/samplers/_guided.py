"""BANANAS-style predictor-guided search as an Optuna sampler (White et al., 2021).

The sampler's settings and Optuna interface are here; one proposal (trials, warm-up, fits,
acquisition) is in ``_guided_fit`` and the candidate pools and local-search climb in
``_guided_pool``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.predictors import PREDICTORS
from predictor_nas.samplers._acquisition import ACQUISITIONS
from predictor_nas.samplers._guided_fit import _GuidedProposal, _is_predictor
from predictor_nas.samplers._guided_pool import Codes, _cache_of
from predictor_nas.samplers._guided_settings import guided_kwargs
from predictor_nas.samplers._priors import ScoreFeatures, Scorer, table_scorer
from predictor_nas.samplers._space_sampler import check_param_of_space
from predictor_nas.spaces import SearchSpace, get_space

if TYPE_CHECKING:
    from predictor_nas.predictors import Predictor

_OWNER = "PredictorGuidedSampler"

#: Warm-up modes of ``PredictorGuidedSampler``.
WARMUPS = ("random", "proxy")
RESTARTS = ("pool", "random")

#: Target transforms of ``PredictorGuidedSampler`` (applied before every fit).
TARGETS = ("raw", "rank")

__all__ = ["PredictorGuidedSampler", "ScoreFeatures", "Scorer", "table_scorer"]


class PredictorGuidedSampler(_GuidedProposal, BaseSampler):
    """Propose the candidate architecture an accuracy predictor likes best (BANANAS-style).

    **Which one to take.** ``PredictorGuidedSampler.benchmarked(space, seed=...)`` builds the
    sampler of the ``guided`` strategy, the one whose numbers the README and the committed
    comparisons report (settings: ``predictor_nas.samplers.guided_kwargs(space)``: on NB201
    ``GUIDED_KWARGS``, a predictor-steered local search with random restarts, rank targets,
    150-tree xgb members on path statistics; on any other space ``GUIDED_DECLARED_KWARGS``,
    BANANAS with a Bayesian ridge model whose encoding is chosen by evidence). Take it unless you
    mean to change a setting. The constructor's defaults are the plain BANANAS pool (mutations of
    the 10 best, raw targets, one-hot xgb): kept for code that relies on them, not what was
    benchmarked.

    The first ``n_warmup`` trials with a target (below) are warm-up: uniform random architectures
    (``warmup="random"``), or, with ``warmup="proxy"``, the best-scored by ``warmup_scorer`` of
    ``warmup_pool`` uniform random ones (a zero-cost proxy, or a model of another dataset); never
    a repeat. After that, every proposal

    1. builds a candidate pool (below);
    2. drops every candidate whose ``canonical_key`` (isomorphic cells share one) belongs to a
       trial that is complete, pruned, running or waiting, and duplicates within the pool;
       failed trials gave no result, so their architectures may be proposed again;
    3. refits the predictor on all trials with a target (architecture from the params, target
       = the trial's value, negated for a minimised study, so the predictor always maximises;
       with ``target="rank"`` the targets are their ranks scaled to [0, 1]);
    4. scores the candidates with the acquisition and proposes the best (ties: higher predicted
       mean, then pool order):

       * ``"ei"``: expected improvement over the best observed (not predicted) target, with the
         predictor's mean and std as a Gaussian;
       * ``"ucb"``: ``mean + ucb_kappa * std``;
       * ``"ts"``: independent Thompson sampling, one draw per candidate from ``N(mean, std^2)``.

       A predictor without uncertainty (``std is None``) is scored with ``std = 0``. A pool of
       one candidate is proposed without a fit.

    **The pool.** BANANAS' pool: every one-edit neighbour of each of the ``n_local_parents``
    best architectures, ``n_mutations_per_parent`` mutations of each of the ``n_parents`` best
    (1, 2, ..., ``max_edits`` distinct edits in turn), ``n_crossovers`` uniform crossovers of the
    ``n_parents`` best (each decision from a random one of them), then uniform random
    architectures up to ``n_candidates`` rows. With ``local_search=True`` the predictor instead
    steers a local search (White et al., 2021): while the *climb point* has unused one-edit
    neighbours, the pool is exactly those (hill climbing, best-predicted neighbour first); at a
    local optimum the BANANAS pool is scored and its pick is a *restart*: the climb goes on from
    it, better or not. The climb point is replayed from the trials: it starts at the best
    warm-up trial; a later trial one edit from it replaces it if better; any other trial (a
    restart) replaces it. On NAS-Bench-201 this is what makes the guided search strong: the
    predictor orders the neighbours (local search takes them in random order) and picks the
    restarts, while the climbs keep it from circling one basin the way a pure BANANAS pool does
    (its predictor cannot see a better basin 3-5 edits away from everything it was fitted on).
    With a ``climb_scorer`` (e.g. a zero-cost proxy ranker) the climb takes the neighbour that
    scorer ranks highest instead, and the predictor is fitted only to pick the restarts: a
    proxy ranks the cells around a good one well, while the predictor, fitted on the trials,
    judges where to go once the proxy's climb is stuck (``guided-zc``).

    **Pruned trials are censored data**, not missing ones (``observed_targets``): a PRUNED
    trial enters with its last reported intermediate value, a pessimistic estimate of its final
    value; one that diverged (user attribute ``diverged``, set by ``CurvePruner``, or a NaN/inf
    last report) enters below every finite target seen, so the predictor learns that its region
    is bad. So a study whose pruner stops most runs still leaves the warm-up and is steered by
    the predictor. COMPLETE trials with a finite value are the other trials with a target; the
    climb, the EI incumbent and the fit all read the same list. A study without pruned trials
    sees exactly its complete trials.

    **Targets.** ``target="rank"`` keeps the few collapsed cells (NB201: ~10 % accuracy) from
    dominating the ensemble: with raw targets the members disagree by several points on any arch
    that looks like a collapsed one, and EI keeps proposing such high-std archs instead of
    refining the incumbent (the stalls seen on NB201).

    **Transfer warm start.** ``transfer`` (a scorer such as ``table_scorer(table, "cifar10",
    n_archs=200)`` when searching cifar100) adds its scores as one extra feature of a named
    predictor (its ``extra``), so the trees can lean on the source dataset's ranking from the
    first fit. Pass the same scorer as ``warmup_scorer`` to start from its favourites too.

    **Parallel workers (batch proposals).** RUNNING/WAITING trials of other workers are pending:
    their keys are excluded from the pool and they enter the fit with a *kriging believer* value,
    the mean the predictor (fitted on the complete trials) gives them; the predictor is then
    refitted on complete + pending. So the acquisition sees the pending archs as already
    evaluated at their predicted value and the next worker is steered elsewhere. The EI
    incumbent stays the best *observed* target. (Two fits per proposal while anything is pending.)

    **State** is the study itself (as for ``RegularizedEvolutionSampler``): a resumed or shared
    study needs nothing else. Everything random (warm-up draws, mutations, random candidates,
    Thompson draws, the predictors' seed) comes from one ``numpy`` Generator seeded by ``seed``,
    so the same study and seed give the same proposal. The fit on the complete trials is cached
    on the instance and reused while they do not change (parallel workers adding pending trials).

    **Refits on long searches.** Below ``refit_start`` trials with a target (default 300) the
    predictor is refitted on all of them at every proposal. From ``refit_start`` on (with the
    default ``refit_growth=0.02``) it is refitted only once the trials have grown by about
    ``refit_growth`` since the last fit: with ``n`` such trials it is fitted on the first
    ``m = max(refit_start, n - n % step)`` of them, ``step = floor(n * refit_growth)`` (6 at
    300 trials, 20 at 1,000), and reused in between (the candidates are always scored afresh,
    and the EI incumbent is the best target of all ``n``). ``m`` depends only on ``n``, and
    these fits are seeded from their training data (a digest of the prefix) rather than from
    ``seed``, so the model is a function of the trials: a fresh sampler on a resumed study fits
    the same model. They are also kept in a small process-wide cache shared by every instance
    with the same space and predictor settings, since ``run_search`` builds a fresh sampler for
    each query (``StepSamplers``): the queries after a refit reuse it. A refit costs ~100-200
    CPU-ms (5 x 150 trees, growing with ``n``), so refitting at every proposal is quadratic over
    a search; with the default a proposal at 1,000 trials costs ~24 CPU-ms on average instead
    of ~200, one sampler or one per query alike (``benchmarks/results/guided_speed.md``).
    Searches shorter than ``refit_start`` (every committed NB201 comparison, budget <= 200) are
    bit for bit those of refitting every time. Refitting every 2 % from 100 trials on was worse
    on NB201 ImageNet16-120 at 200 queries (regret 0.062 against 0.046, 20 paired seeds,
    Wilcoxon p = 0.10), hence the start at 300; past it, see the paired check at 500 queries in
    ``benchmarks/results/guided_regret.md``. ``refit_growth=None`` refits at every proposal.
    Candidates are built on integer code arrays and canonical keys are memoised per space, for
    spaces whose decisions are independent (the base ``SearchSpace`` moves); other spaces (e.g.
    conditional ones) use their own ``neighbours``, ``mutate`` and ``sample``.

    Args:
        space: The search space (or its name); its params must be in the study as categoricals.
        predictor: A registered predictor name (``"xgb"``, ``"ridge"``, ``"gin"``...), a
            callable ``seed -> Predictor`` (any predictor plugs in), or an unfitted
            ``Predictor`` instance (deep-copied for each fit, so it is never modified).
        predictor_kwargs: Constructor arguments for a named predictor (``make_predictor``).
        acquisition: ``"ei"``, ``"ucb"`` or ``"ts"``.
        n_warmup: Trials with a target (complete or pruned) before the predictor is used (>= 2;
            a fit needs 2 points).
        warmup: ``"random"`` or ``"proxy"`` (needs ``warmup_scorer``).
        warmup_scorer: Callable mapping (n,) archs to (n,) scores, higher = better (NaN: never
            preferred); used by ``warmup="proxy"``.
        warmup_pool: Random archs scored per proxy warm-up proposal.
        n_candidates: Rows generated for the BANANAS pool (neighbours + mutations + crossovers
            + random, before de-duplication; rows past it are dropped).
        n_mutations_per_parent: Mutations per parent.
        n_parents: How many of the best architectures are mutated and crossed.
        max_edits: Mutations make 1, 2, ..., ``max_edits`` edits (distinct decisions) in turn.
        n_local_parents: How many of the best architectures add all their one-edit neighbours.
        n_crossovers: Uniform crossovers of the ``n_parents`` best.
        local_search: Steer a local search (above) instead of scoring the pool every time.
        climb_scorer: With ``local_search``, a callable mapping (n,) archs to (n,) scores,
            higher = better (NaN: never preferred), that orders the climb point's neighbours
            in place of the predictor (first on ties); ``None``: the predictor orders them.
        restart: With ``local_search``, the pool scored at a local optimum: ``"pool"`` (the
            BANANAS pool) or ``"random"`` (``n_candidates`` uniform random unused archs, so the
            predictor picks where to restart but not near the basin just left).
        patience: With ``local_search``, restart once this many neighbours of the climb point
            (best-predicted first) were evaluated without improvement, instead of evaluating
            all of them; ``None``: all.
        target: ``"raw"`` or ``"rank"``: the transform of the targets (above).
        transfer: Optional scorer added as an extra feature of a named predictor.
        ucb_kappa: Exploration weight of UCB.
        refit_growth: ``None`` (refit at every proposal) or a fraction in (0, 1]: from
            ``refit_start`` trials with a target on, refit once they have grown by it since the
            last fit (above).
        refit_start: Trials with a target below which every proposal refits (an int >= 0).
        seed: Seed of the sampler's random generator.
    """

    def __init__(
        self,
        space: SearchSpace | str = "nb201",
        *,
        predictor: str | Callable[[int], Predictor] | Predictor = "xgb",
        predictor_kwargs: Mapping[str, Any] | None = None,
        acquisition: str = "ei",
        n_warmup: int = 10,
        warmup: str = "random",
        warmup_scorer: Scorer | None = None,
        warmup_pool: int = 100,
        n_candidates: int = 200,
        n_mutations_per_parent: int = 10,
        n_parents: int = 10,
        max_edits: int = 2,
        n_local_parents: int = 0,
        n_crossovers: int = 0,
        local_search: bool = False,
        climb_scorer: Scorer | None = None,
        restart: str = "pool",
        patience: int | None = None,
        target: str = "raw",
        transfer: Scorer | None = None,
        ucb_kappa: float = 2.0,
        refit_growth: float | None = 0.02,
        refit_start: int = 300,
        seed: int | None = None,
    ) -> None:
        self.space = get_space(space) if isinstance(space, str) else space
        if not isinstance(self.space, SearchSpace):
            raise param_error("space", _OWNER, "a SearchSpace or a space name", space)
        if not (isinstance(predictor, str) or callable(predictor) or _is_predictor(predictor)):
            raise param_error(
                "predictor", _OWNER, "a predictor name, a callable seed -> Predictor", predictor
            )
        if isinstance(predictor, str):
            check_choice(predictor, "predictor", _OWNER, sorted(PREDICTORS))
        self.predictor = predictor
        self.predictor_kwargs = dict(predictor_kwargs or {})
        self.acquisition = check_choice(acquisition, "acquisition", _OWNER, ACQUISITIONS)
        self.n_warmup = check_int(n_warmup, "n_warmup", _OWNER, minimum=2)
        self.warmup = check_choice(warmup, "warmup", _OWNER, WARMUPS)
        if warmup_scorer is not None and not callable(warmup_scorer):
            raise param_error("warmup_scorer", _OWNER, "a callable archs -> scores", warmup_scorer)
        if self.warmup == "proxy" and warmup_scorer is None:
            raise param_error(
                "warmup_scorer", _OWNER, "a callable archs -> scores when warmup='proxy'", None
            )
        self.warmup_scorer = warmup_scorer
        self.warmup_pool = check_int(warmup_pool, "warmup_pool", _OWNER, minimum=1)
        self.n_candidates = check_int(n_candidates, "n_candidates", _OWNER, minimum=1)
        self.n_mutations_per_parent = check_int(
            n_mutations_per_parent, "n_mutations_per_parent", _OWNER, minimum=0
        )
        self.n_parents = check_int(n_parents, "n_parents", _OWNER, minimum=1)
        self.max_edits = check_int(max_edits, "max_edits", _OWNER, minimum=1)
        if self.max_edits > len(self.space.param_names):
            raise param_error(
                "max_edits",
                _OWNER,
                f"an int in [1, {len(self.space.param_names)}] (the space's decisions)",
                max_edits,
            )
        self.n_local_parents = check_int(n_local_parents, "n_local_parents", _OWNER, minimum=0)
        self.n_crossovers = check_int(n_crossovers, "n_crossovers", _OWNER, minimum=0)
        self._set_local_search(local_search, climb_scorer, restart, patience)
        self.target = check_choice(target, "target", _OWNER, TARGETS)
        if transfer is not None:
            if not callable(transfer):
                raise param_error("transfer", _OWNER, "a callable archs -> scores", transfer)
            if not isinstance(predictor, str):
                raise param_error(
                    "transfer", _OWNER, "None unless the predictor is a name", "a scorer"
                )
        self.transfer = transfer
        self.ucb_kappa = check_float(ucb_kappa, "ucb_kappa", _OWNER, minimum=0.0)
        if refit_growth is not None:
            check_float(refit_growth, "refit_growth", _OWNER, minimum=0.0, exclusive=True)
            if refit_growth > 1.0:
                raise param_error("refit_growth", _OWNER, "None or a float in (0, 1]", refit_growth)
        self.refit_growth = refit_growth
        self.refit_start = check_int(refit_start, "refit_start", _OWNER, minimum=0)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._random = RandomSampler(seed=None if seed is None else int(self._rng.integers(2**31)))
        #: Seed of every predictor this instance fits (the data, not the seed, changes per fit).
        self._predictor_seed = int(self._rng.integers(2**31))
        self._names = list(self.space.param_names)
        self._n_choices = len(self.space.choices)
        #: Decisions are independent, all over ``choices``: candidates are made on code arrays.
        self._plain = self.space.plain
        self._cache = _cache_of(self.space)
        self._dists = self.space.distributions()
        self._fit_cache: tuple[Any, Any] | None = None
        self._proposal_cache: tuple[Any, dict[str, Any]] | None = None
        self._point_neighbours: tuple[Codes, set[Codes]] | None = None
        #: Wall seconds of each ``sample_relative`` call (warm-up ones included).
        self.proposal_seconds: list[float] = []
        #: Per proposal: ``"warmup"``, ``"local"`` (a climb step), ``"restart"`` (a random
        #: restart), ``"predictor"`` (the BANANAS pool) or ``"fallback"`` (pool empty).
        self.proposal_kinds: list[str] = []

    def _set_local_search(
        self, local_search: bool, climb_scorer: Scorer | None, restart: str, patience: int | None
    ) -> None:
        """Check and set the local-search options of ``__init__`` (in its order)."""
        if not isinstance(local_search, bool):
            raise param_error("local_search", _OWNER, "a bool", local_search)
        self.local_search = local_search
        if climb_scorer is not None:
            if not callable(climb_scorer):
                raise param_error(
                    "climb_scorer", _OWNER, "a callable archs -> scores", climb_scorer
                )
            if not local_search:
                raise param_error(
                    "climb_scorer", _OWNER, "None unless local_search=True", "a scorer"
                )
        self.climb_scorer = climb_scorer
        self.restart = check_choice(restart, "restart", _OWNER, RESTARTS)
        self.patience = (
            None if patience is None else check_int(patience, "patience", _OWNER, minimum=1)
        )

    @classmethod
    def benchmarked(
        cls, space: SearchSpace | str = "nb201", *, seed: int | None = None
    ) -> PredictorGuidedSampler:
        """The ``guided`` strategy's sampler: exactly what ``make_sampler("guided", space,
        seed)`` builds (same settings, same proposals).

        Args:
            space: The search space (or its name).
            seed: Seed of the sampler's random generator.

        Returns:
            A new sampler with the settings of ``guided_kwargs(space)``: ``GUIDED_KWARGS`` on
            NB201, ``GUIDED_DECLARED_KWARGS`` on any other space (see the class docstring).
        """
        sp = get_space(space)
        return cls(sp, seed=seed, **guided_kwargs(sp))

    def reseed_rng(self) -> None:
        """Reseed from fresh OS entropy (Optuna calls this for parallel workers)."""
        self._rng = np.random.default_rng()
        self._random.reseed_rng()

    # ----------------------------------------------------------------- Optuna API
    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """The space's categorical params, when every completed trial has them.

        As for the evolution sampler the relative space is the intersection over completed
        trials (and pruned trials that hold every decision: a study whose pruner stops most
        runs has few complete ones), restricted to categoricals; it is used only when it holds
        all of the space's decisions (otherwise everything falls back to
        ``sample_independent``). Computed
        directly: every complete trial must have the same categorical distribution per decision.
        Before any trial is complete it is the space's own distributions with a proxy warm-up
        (so the first arch is a proxy pick too), else empty.
        """
        if not self._plain:
            return {}  # conditional decisions: proposals go through sample_independent
        complete = [
            t
            for t in study.get_trials(
                deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)
            )
            if t.state == TrialState.COMPLETE or all(n in t.distributions for n in self._names)
        ]
        if not complete:
            # A proxy warm-up scores whole archs, the first one too; a random warm-up may as
            # well draw the first arch param by param (``sample_independent``).
            return self.space.distributions() if self.warmup == "proxy" else {}
        first = complete[0].distributions
        space: dict[str, BaseDistribution] = {}
        for n in self._names:
            d = first.get(n)
            if not isinstance(d, CategoricalDistribution):
                return {}
            space[n] = d
        choices = {n: d.choices for n, d in space.items()}  # type: ignore[attr-defined]
        for t in complete[1:]:
            dist = t.distributions
            for n in self._names:
                d = dist.get(n)
                # Same test as CategoricalDistribution.__eq__ for str choices, ~10x cheaper.
                if type(d) is not CategoricalDistribution or d.choices != choices[n]:
                    if d != space[n]:
                        return {}
        return space

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Propose all of the space's params at once: warm-up, then the acquisition's best
        candidate."""
        if not search_space:
            return {}
        if len(study.directions) > 1:
            raise ValueError(f"{_OWNER} supports single-objective studies only.")
        t0 = time.perf_counter()
        codes, kind = self._propose(study, trial)
        self.proposal_seconds.append(time.perf_counter() - t0)
        self.proposal_kinds.append(kind)
        return self.space.to_params(self.space.from_codes(codes))

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """The space's decisions outside the relative space: uniform random on a plain space
        (the first trial of a random warm-up); on a space with conditional decisions, this
        trial's proposal (computed once per trial).

        Extra params next to the space's decisions (a learning rate) are uniform random.

        Raises:
            SearchError: ``param_name`` is not a decision of the space (or has other choices)
                and the study holds none of them: the objective searches another space than
                the sampler was given.
        """
        own = check_param_of_space(
            self.space, self._dists, param_name, param_distribution, _OWNER, study, trial
        )
        if own and not self._plain:
            params = self._trial_proposal(study, trial)
            if param_name in params:
                return params[param_name]
        if isinstance(param_distribution, CategoricalDistribution):
            choices = param_distribution.choices
            return choices[int(self._rng.integers(len(choices)))]
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    def _trial_proposal(self, study: Study, trial: FrozenTrial) -> dict[str, Any]:
        """``sample_relative``'s proposal for ``trial``, computed once per trial."""
        tag = (study.study_name, trial.number)
        if self._proposal_cache is None or self._proposal_cache[0] != tag:
            self._proposal_cache = (tag, self.sample_relative(study, trial, {"*": None}))
        return self._proposal_cache[1]
