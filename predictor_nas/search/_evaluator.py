"""The evaluator of a zero-cost search (``run_search``, ``compare``): a table or a surrogate.

A table search looks results up (``TableEvaluator``); a surrogate search asks a surrogate model
(``NB301SurrogateEvaluator``, the YAHPO NB301 ONNX model, at its full 98 epochs). Both cost no
training. A surrogate has no table of every architecture, so no "table best": regret is measured
against a documented reference best (``REFERENCE_BEST``): the best surrogate value found over a
large random sample plus every run of the committed comparison, with the command that produced
it. A search that beats it gets a negative regret (and the reference should be raised).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from predictor_nas._validation import check_choice, param_error
from predictor_nas.evaluators import Evaluator, evaluator_classes
from predictor_nas.exceptions import InvalidParameterError

#: Environment variable naming the folder of YAHPO's nb301 files when no folder is passed.
SURROGATE_ENV = "PREDICTOR_NAS_NB301_SURROGATE"
#: Evaluator kinds a zero-cost search can use.
SEARCH_KINDS = ("table", "surrogate")


@dataclass(frozen=True)
class ReferenceBest:
    """The reference best of a surrogate (what its regret is measured against).

    Attributes:
        value: Best objective value known (validation accuracy, %, at ``epochs``).
        arch: The architecture that has it (the space's string form).
        epochs: Fidelity of ``value``.
        how: How it was found (sample size, runs included) and the command that reproduces it.
    """

    value: float
    arch: str
    epochs: int
    how: str


#: Model sha256 -> the reference best of that surrogate; written by
#: ``scripts/nb301_reference_best.py`` (see its docstring for the exact command).
REFERENCE_BEST: dict[str, ReferenceBest] = {
    # YAHPO Gym nb301 v2 (model_v2.onnx). Found by guided (seed 33, its ridge model's encoding
    # chosen by evidence) in the 50-seed comparison (benchmarks/results/compare_nb301); the best
    # of 200,000 uniform random architectures is 93.8027; the reference before, 94.1697, was found
    # by guided's earlier xgb climb (seed 21). Reproduce: see scripts/nb301_reference_best.py (its
    # docstring has the command).
    "sha256:e7168d495cf7fe6419b69234a052571536c2a5f6d7a8a2aead4e9d04dffac1d6": ReferenceBest(
        value=94.24926042556763,
        arch="Genotype(normal=[('sep_conv_5x5', 0), ('skip_connect', 1), ('sep_conv_5x5', 0), "
        "('skip_connect', 2), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
        "('sep_conv_5x5', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
        "('skip_connect', 1), ('dil_conv_5x5', 0), ('skip_connect', 1), ('dil_conv_3x3', 0), "
        "('skip_connect', 3), ('max_pool_3x3', 0), ('avg_pool_3x3', 4)], reduce_concat=[2, 3, "
        "4, 5])",
        epochs=98,
        how="best of a uniform random sample of 200,000 architectures (seed 0) and the "
        "incumbents of 350 committed compare runs; found by guided seed 33 "
        "(benchmarks/results/compare_nb301/runs.jsonl.gz); scripts/nb301_reference_best.py",
    ),
}


def search_evaluator_names() -> list[str]:
    """Names in ``evaluator_classes()`` a zero-cost search can use (kind table or surrogate)."""
    return [n for n, c in evaluator_classes().items() if c.kind in SEARCH_KINDS]


def surrogate_folder(path: str | os.PathLike | None, owner: str, option: str) -> str:
    """``path``, else ``$PREDICTOR_NAS_NB301_SURROGATE``; an error naming ``option`` if neither."""
    folder = path if path is not None else os.environ.get(SURROGATE_ENV) or None
    if folder is None:
        raise InvalidParameterError(
            f"The {option!r} parameter of {owner} must be the folder of YAHPO's nb301 files "
            f"(model_v2.onnx, encoding_v2.json, config_space_v2.json) for the nb301-surrogate "
            f"evaluator (or set ${SURROGATE_ENV}). Got None instead."
        )
    return os.fspath(folder)


def resolve_evaluator(
    evaluator: str | Evaluator,
    *,
    owner: str,
    surrogate: str | os.PathLike | None = None,
) -> Evaluator | None:
    """The surrogate evaluator ``evaluator`` names, or None for ``"table"`` (the caller opens
    the table itself).

    Args:
        evaluator: ``"table"``, ``"nb301-surrogate"`` (another name of kind surrogate in
            ``evaluator_classes()`` whose class takes a folder) or an ``Evaluator`` of kind
            ``"table"`` or ``"surrogate"`` (returned as is).
        owner: The function named in error messages.
        surrogate: Folder of the surrogate's files (default ``$PREDICTOR_NAS_NB301_SURROGATE``).

    Raises:
        InvalidParameterError: an unknown name (the message lists the usable ones), an
            evaluator of another kind, or no folder for a surrogate.
    """
    if isinstance(evaluator, Evaluator) and not isinstance(evaluator, str):
        if getattr(evaluator, "kind", None) not in SEARCH_KINDS:
            raise param_error(
                "evaluator", owner, f"an Evaluator of kind {' or '.join(SEARCH_KINDS)}", evaluator
            )
        return evaluator
    names = search_evaluator_names()
    check_choice(evaluator, "evaluator", owner, names)
    if evaluator == "table":
        return None
    cls = evaluator_classes()[evaluator]
    return cls(surrogate_folder(surrogate, owner, "surrogate"))


def evaluator_name(evaluator: Evaluator) -> str:
    """The registry name of ``evaluator``'s class (its class name if unregistered)."""
    for name, cls in evaluator_classes().items():
        if type(evaluator) is cls:
            return name
    return type(evaluator).__name__


def reference_best(evaluator: Any) -> ReferenceBest | None:
    """The documented reference best of a surrogate evaluator, or None if none is recorded."""
    sha = getattr(evaluator, "model_sha256", None)
    return REFERENCE_BEST.get(sha) if sha is not None else None


def surrogate_identity(evaluator: Any) -> dict[str, Any]:
    """The study-configuration entries of a surrogate evaluator (what changes its results)."""
    d = evaluator.describe()
    return {
        "evaluator": evaluator_name(evaluator),
        **{f"surrogate_{k}": v for k, v in d.items() if k != "kind"},
    }


__all__ = [
    "REFERENCE_BEST",
    "SURROGATE_ENV",
    "ReferenceBest",
    "reference_best",
    "resolve_evaluator",
    "search_evaluator_names",
    "surrogate_folder",
    "surrogate_identity",
]
