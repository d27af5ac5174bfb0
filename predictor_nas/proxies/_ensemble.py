"""A zero-cost-proxy ensemble: live proxies as predictor features and as a warm-up ranker."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np

from predictor_nas._lazy import scipy_stats
from predictor_nas._progress import progress_bar
from predictor_nas._validation import check_int, param_error
from predictor_nas.proxies._registry import PROXIES, _check_names, compute_proxies
from predictor_nas.spaces import Arch, NB201Space, SearchSpace, get_space

__all__ = ["DEFAULT_ENSEMBLE", "ProxyEnsemble", "canonical_representative", "rank_average"]

log = logging.getLogger(__name__)

#: Default members: jacov, nwot and synflow, the label-free proxies with the highest Spearman rho
#: with NB201 CIFAR-10 validation accuracy among NAS-Bench-Suite-Zero's values over its 9,445
#: cells (0.83, 0.80, 0.74), plus flops (0.71) as the model-size term (params, 0.74, ranks cells
#: almost identically). See benchmarks/results/proxies_nb201.md for the live ensemble's rho.
DEFAULT_ENSEMBLE: tuple[str, ...] = ("synflow", "jacov", "nwot", "flops")


@cache
def _representatives() -> dict[str, Arch]:
    """canonical key -> dead-op-pruned form of the lowest-index NB201 cell with that key."""
    space = get_space("nb201")
    first: dict[str, Arch] = {}
    for i in range(space.size):
        a = space.from_index(i)
        first.setdefault(space.canonical_key(a), a)
    return {k: space.prune(a) for k, a in first.items()}


def canonical_representative(arch: Arch | str) -> Arch:
    """One fixed NB201 cell per isomorphism class (same ``canonical_key``, same function).

    It is the dead-op-pruned form of the class member with the lowest official index, so the
    choice does not depend on which member is seen first. The first call builds the map for all
    15,625 cells (about a second).
    """
    space = get_space("nb201")
    return _representatives()[space.canonical_key(space.coerce(arch))]


def rank_average(values: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Mean over columns of the normalised rank of ``signs * values``; higher = better.

    Args:
        values: (n, k) proxy values; NaN and -inf (after the sign) rank lowest.
        signs: (k,) +1 / -1 per column.

    Returns:
        (n,) scores in [0, 1] (ties share their average rank; 0.5 when n == 1).
    """

    v = np.asarray(values, dtype=np.float64) * np.asarray(signs, dtype=np.float64)
    n = v.shape[0]
    if n <= 1:
        return np.full(n, 0.5)
    v = np.where(np.isnan(v), -np.inf, v)
    return ((scipy_stats.rankdata(v, method="average", axis=0) - 1.0) / (n - 1)).mean(axis=1)


class ProxyEnsemble:
    """Zero-cost proxies computed live on real networks of any space, as features and as a ranker.

    Values are cached per canonical (isomorphism) key, so isomorphic architectures (same
    function) are computed once and get the same values: on NB201 each is scored through
    ``canonical_representative(arch)`` (the class member with the lowest official index, dead
    ops pruned); in other spaces through the dead-op-pruned form of the first member seen. All
    archs share one seeded network initialisation scheme and one noise batch
    (``compute_proxies`` with ``seed``).

    As a feature source it behaves like ``predictor_nas.encodings.TableFeatures`` (``names``,
    ``transform``) and can be passed as the ``extra`` features of an ``Encoder``. As a warm-up
    ranker, ``scores(archs)`` (also ``ensemble(archs)``) is the mean over the proxies of the
    normalised rank of ``sign * value`` among the given archs: higher = better.

    Args:
        proxies: Proxy names (keys of ``PROXIES``).
        space: The space of the scored architectures (a ``SearchSpace``, a name or a YAML
            file).
        signs: Optional ``{name: +1 | -1}`` overriding a proxy's orientation (default: +1 for
            proxies whose ``higher_is_better`` is True, else -1).
        seed: Seed of ``compute_proxies`` (weights, noise batch, zen).
        width: Channels of the first stage of the scored networks (NB201 and cell spaces).
        depth: Cells per stage of the scored networks (NB201 and cell spaces).
        num_classes: Classifier outputs.
        input_size: Side of the square noise images.
        batch_size: Images in the noise batch.
        device: Where the networks run.
        log_scale: ``transform`` applies ``sign(v) * log1p(|v|)``.
        progress: Show progress on stderr while computing new archs
            (``predictor_nas._progress``).
    """

    def __init__(
        self,
        proxies: Sequence[str] = DEFAULT_ENSEMBLE,
        *,
        space: SearchSpace | str = "nb201",
        signs: Mapping[str, int] | None = None,
        seed: int = 0,
        width: int = 16,
        depth: int = 5,
        num_classes: int = 10,
        input_size: int = 32,
        batch_size: int = 64,
        device: str = "cpu",
        log_scale: bool = True,
        progress: bool = False,
    ) -> None:
        self.proxies = proxies
        self.space = space
        self.signs = signs
        self.seed = seed
        self.width = width
        self.depth = depth
        self.num_classes = num_classes
        self.input_size = input_size
        self.batch_size = batch_size
        self.device = device
        self.log_scale = log_scale
        self.progress = progress

    # ----------------------------------------------------------------- configuration
    def _checked(self) -> tuple[list[str], np.ndarray]:
        owner = "ProxyEnsemble"
        names = _check_names(self.proxies, owner)
        check_int(self.seed, "seed", owner, minimum=0)
        signs = {n: 1 if PROXIES[n].higher_is_better else -1 for n in names}
        if self.signs is not None:
            if not isinstance(self.signs, Mapping):
                raise param_error("signs", owner, "a mapping {proxy name: +1 or -1}", self.signs)
            for k, v in self.signs.items():
                if k not in names or isinstance(v, bool) or v not in (1, -1):
                    raise param_error(
                        "signs", owner, f"a mapping from names in {names} to +1 or -1", {k: v}
                    )
                signs[k] = int(v)
        return names, np.array([signs[n] for n in names], dtype=np.float64)

    @property
    def names(self) -> list[str]:
        """Feature names: the proxies, then ``missing`` (1 where a value was not finite)."""
        return [*self._checked()[0], "missing"]

    # ----------------------------------------------------------------- values
    def values(self, archs: Sequence[Arch | str]) -> np.ndarray:
        """Raw proxy values, float64 (n, n_proxies); NaN / inf where a proxy is undefined."""

        names, _ = self._checked()
        space = get_space(self.space)
        given = [space.coerce(a) for a in archs]
        keys = [space.canonical_key(a) for a in given]
        config = (
            space.name,
            tuple(names),
            self.seed,
            self.width,
            self.depth,
            self.num_classes,
            self.input_size,
            self.batch_size,
            str(self.device),
        )
        if getattr(self, "cache_config_", None) != config:  # first use, or settings changed
            self.cache_: dict[str, dict[str, float]] = {}
            self.cache_config_ = config
        cache_ = self.cache_
        todo = list(dict.fromkeys(k for k in keys if k not in cache_))
        if todo:
            if isinstance(space, NB201Space):
                reps = _representatives()
            else:  # the first member seen of each class, its dead ops pruned
                reps = {}
                for k, a in zip(keys, given, strict=True):
                    reps.setdefault(k, space.prune(a))
            it = todo
            if self.progress:
                it = progress_bar(iterable=todo, desc="zero-cost proxies", unit="arch")
            for key in it:
                cache_[key] = compute_proxies(
                    reps[key],
                    names,
                    space=space,
                    seed=self.seed,
                    width=self.width,
                    depth=self.depth,
                    num_classes=self.num_classes,
                    input_size=self.input_size,
                    batch_size=self.batch_size,
                    device=self.device,
                )
            log.debug("computed proxies for %d new canonical archs", len(todo))
        out = np.empty((len(keys), len(names)), dtype=np.float64)
        for i, key in enumerate(keys):
            out[i] = [cache_[key][n] for n in names]
        return out

    def transform(self, archs: Sequence[Arch | str]) -> np.ndarray:
        """Features of ``archs``: float32 (n, n_proxies + 1); non-finite -> 0 with the flag set."""
        x = self.values(archs)
        missing = ~np.isfinite(x).all(axis=1, keepdims=True)
        x = np.where(np.isfinite(x), x, 0.0)
        if self.log_scale:
            x = np.sign(x) * np.log1p(np.abs(x))
        return np.concatenate([x, missing], axis=1).astype(np.float32)

    def scores(self, archs: Sequence[Arch | str]) -> np.ndarray:
        """Rank-average score (n,) in [0, 1], higher = better; undefined values rank lowest.

        Ranks are relative to the given archs (ties share their average rank).
        """
        _, signs = self._checked()
        return rank_average(self.values(archs), signs)

    def __call__(self, archs: Sequence[Arch | str]) -> np.ndarray:
        """Same as ``scores(archs)`` (the warm-up scorer interface)."""
        return self.scores(archs)
