"""Evaluators built from a study's stored configuration (distributed workers and coordinators).

An evaluator is a ``predictor_nas.evaluators.Evaluator``, or any object with

* ``evaluate(arch, rng=None) -> Evaluation`` (``predictor_nas.evaluators.Evaluation``: value,
  metrics, cost, seed_position); if ``evaluate`` also takes a ``trial`` keyword, the worker
  passes the running ``optuna.Trial`` so that it can report a learning curve
  (``trial.report``) and stop early (raise ``optuna.TrialPruned``);
* ``direction``: ``"maximize"`` or ``"minimize"``.

``TableEvaluator`` is one (``"table"``), ``NB301SurrogateEvaluator`` (``"nb301-surrogate"``: the
YAHPO NB301 surrogate at 98 epochs; option ``path`` = folder of its files, the coordinator adds
the model's hash) and ``TrainEvaluator`` (``"train"``: real training on
digits or CIFAR-10, options in the study's ``evaluator_options``; it reports its learning curve
and returns ``pruned=True`` when the trial's pruner stops it). Others plug in with
``register_evaluator`` (in every process that runs a coordinator or worker), or are passed to
``run_worker(evaluator=...)`` directly. ``evaluate`` may take ``rng`` and/or ``trial``: the
worker passes those its signature names.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from predictor_nas._validation import check_choice, check_int, param_error
from predictor_nas.evaluators._surrogate import NB301SurrogateEvaluator
from predictor_nas.evaluators._table import TableEvaluator
from predictor_nas.evaluators._train import TrainEvaluator
from predictor_nas.exceptions import InvalidParameterError, SearchError
from predictor_nas.spaces import DEFAULT_SPACE, KINDS, NB201Space, SearchSpace, get_space
from predictor_nas.tables import Table, open_table
from predictor_nas.training import TrainConfig, load_cifar10, load_digits_data

#: name -> (factory(config) -> Evaluator, direction(config) -> "maximize" | "minimize")
_REGISTRY: dict[str, tuple[Callable[[dict[str, Any]], Any], Callable[[dict[str, Any]], str]]] = {}


def _table_evaluator(config: dict[str, Any], table: Table | None = None) -> TableEvaluator:
    tbl = table if table is not None else open_table(config["table"])
    want = config.get("table_content_hash")
    if want is not None and tbl.content_hash != want:
        raise SearchError(
            f"Table {config['table']!r} here has content hash {tbl.content_hash}, but the study "
            f"was created with {want}: every worker must read the same table."
        )
    return TableEvaluator(
        tbl, config["dataset"], metric=config["metric"], draw_seed=bool(config["draw_seed"])
    )


_REGISTRY["table"] = (_table_evaluator, lambda config: _table_evaluator(config).direction)

#: ``evaluator_options`` of the ``train`` evaluator that change results (fixed by the study):
#: the fields of ``TrainConfig``, whose defaults they override.
TRAIN_OPTIONS = TrainConfig.field_names()
#: Options each worker may set for its own machine (``run_worker(evaluator_options=...)``).
TRAIN_LOCAL_OPTIONS = ("device", "amp", "num_threads", "checkpoint_dir", "data_root", "download")
TRAIN_DATASETS = ("digits", "cifar10")


def study_space(config: dict[str, Any]) -> SearchSpace:
    """The search space of a stored study configuration: its ``space_file`` (a space declared
    in a YAML file, read again by every worker) or its registered ``space`` name."""
    return get_space(config.get("space_file") or config.get("space", DEFAULT_SPACE))


def _check_train_options(config: dict[str, Any]) -> None:
    """Check names and values of the train evaluator's options without loading any data.

    Called by ``coordinate`` before the study is created (so a bad value is refused there, not
    by every worker after the study has stored it) and again by each worker.
    """
    owner = "the train evaluator"
    check_choice(config["dataset"], "dataset", owner, TRAIN_DATASETS)
    space = study_space(config)
    if not (isinstance(space, NB201Space) or getattr(space, "kind", None) in KINDS):
        raise param_error(
            "space", owner, f"a space with a network builder (NB201 or a declared "
            f"{', '.join(KINDS)} space)", space.name,
        )  # fmt: skip
    allowed = (*TRAIN_OPTIONS, *TRAIN_LOCAL_OPTIONS)
    opts = config.get("evaluator_options", {})
    for key in opts:
        check_choice(key, "evaluator option", owner, allowed)
    TrainConfig.from_options({k: v for k, v in opts.items() if k in TRAIN_OPTIONS}, owner)
    if opts.get("num_threads") is not None:
        check_int(opts["num_threads"], "num_threads", owner, minimum=1)
    if opts.get("amp") is not None and not isinstance(opts["amp"], bool):
        check_choice(opts["amp"], "amp", owner, ["bfloat16", "float16"])
    if "download" in opts and not isinstance(opts["download"], bool):
        raise param_error("download", owner, "true or false", opts["download"])
    for key in ("device", "checkpoint_dir", "data_root"):
        if opts.get(key) is not None and not isinstance(opts[key], str):
            raise param_error(key, owner, "a string", opts[key])


def _train_evaluator(config: dict[str, Any]) -> Any:
    """``predictor_nas.evaluators.TrainEvaluator`` on the study's dataset (real training)."""
    _check_train_options(config)
    opts = dict(config.get("evaluator_options", {}))
    root = opts.pop("data_root", None)
    download = bool(opts.pop("download", False))
    seed = int(config.get("seed", 0))
    if config["dataset"] == "digits":
        data = load_digits_data(seed=seed)
    else:
        if root is None:
            raise InvalidParameterError(
                "The train evaluator on cifar10 needs the data folder: pass evaluator option "
                "data_root=PATH (the worker's --evaluator-option data_root=PATH)."
            )
        data = load_cifar10(root, download=download, seed=seed)
    return TrainEvaluator(data, space=study_space(config), seed=seed, **opts)


def _train_direction(config: dict[str, Any]) -> str:
    _check_train_options(config)
    return "maximize"


_REGISTRY["train"] = (_train_evaluator, _train_direction)


#: Environment variable naming the folder of YAHPO's nb301 files when no ``path`` option is set.
NB301_SURROGATE_ENV = "PREDICTOR_NAS_NB301_SURROGATE"
#: Options of the ``nb301-surrogate`` evaluator: ``path`` (folder of YAHPO's nb301 files; a
#: worker may set its own) and ``model_sha256`` (stored by the coordinator: every worker must
#: load the same model).
SURROGATE_OPTIONS = ("path", "model_sha256")


def _surrogate_path(config: dict[str, Any]) -> str:
    """The surrogate folder of a configuration: option ``path``, else the environment's."""

    path = config.get("evaluator_options", {}).get("path") or os.environ.get(NB301_SURROGATE_ENV)
    if not path:
        raise InvalidParameterError(
            "The nb301-surrogate evaluator needs the folder of YAHPO's nb301 files: pass "
            f"--evaluator-option path=FOLDER (or set ${NB301_SURROGATE_ENV})."
        )
    return str(path)


def _check_surrogate_config(config: dict[str, Any]) -> str:
    """Check space, dataset, metric, draw_seed and options of an ``nb301-surrogate`` study."""
    owner = "the nb301-surrogate evaluator"
    check_choice(config.get("space", "nb301"), "space", owner, ["nb301"])
    check_choice(config["dataset"], "dataset", owner, ["cifar10"])
    check_choice(config.get("metric", "val_acc"), "metric", owner, ["val_acc"])
    if config.get("draw_seed"):
        raise param_error("draw_seed", owner, "false (the surrogate is deterministic)", True)
    for key in config.get("evaluator_options", {}):
        check_choice(key, "evaluator option", owner, SURROGATE_OPTIONS)
    return "maximize"


def _surrogate_evaluator(config: dict[str, Any]) -> Any:
    """``NB301SurrogateEvaluator`` of the folder in the options; refused if its model is not
    the one the study was created with."""

    _check_surrogate_config(config)
    ev = NB301SurrogateEvaluator(_surrogate_path(config))
    want = config.get("evaluator_options", {}).get("model_sha256")
    if want is not None and ev.model_sha256 != want:
        raise SearchError(
            f"The NB301 surrogate in {ev.path} has model hash {ev.model_sha256}, but the study "
            f"was created with {want}: every worker must load the same model."
        )
    return ev


_REGISTRY["nb301-surrogate"] = (_surrogate_evaluator, _check_surrogate_config)


def study_evaluator_options(name: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """The ``evaluator_options`` a coordinator stores in its study.

    For ``train``, the full training recipe: ``TrainConfig``'s defaults overridden by
    ``options`` (each bad value refused here, before the study exists). Storing every setting
    keeps every worker on the same recipe whatever its version's defaults, and a study created
    under other defaults is refused on resume instead of mixing two recipes.
    """
    opts = dict(options or {})
    if name == "nb301-surrogate":  # the model's hash, so that every worker loads the same one
        ev = _surrogate_evaluator({"space": "nb301", "dataset": "cifar10",
                                   "evaluator_options": opts})  # fmt: skip
        return {**opts, "path": str(Path(ev.path).resolve()), "model_sha256": ev.model_sha256}
    if name != "train":
        return opts
    recipe = TrainConfig.from_options(opts, "the train evaluator")
    return {**opts, **recipe.to_dict()}


def register_evaluator(
    name: str,
    factory: Callable[[dict[str, Any]], Any],
    *,
    direction: str | Callable[[dict[str, Any]], str] = "maximize",
) -> None:
    """Make ``--evaluator NAME`` available to coordinators and workers of this process.

    Args:
        name: The evaluator's name, stored in the study's configuration.
        factory: ``config -> evaluator``; ``config`` is the study's configuration dict
            (space, table, dataset, metric, seed, draw_seed, evaluator_options, ...).
        direction: The objective's direction, or ``config -> direction``.
    """
    if not isinstance(name, str) or not name or name in ("table", "train", "nb301-surrogate"):
        raise InvalidParameterError(
            f"The 'name' parameter of register_evaluator must be a non-empty str other than "
            f"'table', 'train' and 'nb301-surrogate'. Got {name!r} instead."
        )
    if not callable(factory):
        raise InvalidParameterError(
            f"The 'factory' parameter of register_evaluator must be callable. Got {factory!r} "
            "instead."
        )
    if isinstance(direction, str):
        check_choice(direction, "direction", "register_evaluator", ["maximize", "minimize"])
        fixed = direction

        def direction_fn(config: dict[str, Any]) -> str:
            return fixed
    else:
        direction_fn = direction
    _REGISTRY[name] = (factory, direction_fn)


def available_evaluators() -> list[str]:
    """Evaluator names a study may be configured with."""
    return list(_REGISTRY)


def check_evaluator_config(config: dict[str, Any], table: Table | None = None) -> str:
    """Validate the evaluator part of a configuration; returns the study direction."""
    name = check_choice(config["evaluator"], "evaluator", "coordinate", available_evaluators())
    if name == "table":
        return _table_evaluator(config, table).direction
    return _REGISTRY[name][1](config)


def make_evaluator(config: dict[str, Any], local_options: dict[str, Any] | None = None) -> Any:
    """The evaluator a worker uses for a study of configuration ``config``.

    ``local_options`` are this worker's own settings (device, data folder, ...), merged over
    the study's ``evaluator_options``; for ``train`` only ``TRAIN_LOCAL_OPTIONS`` may be set.
    """
    name = config.get("evaluator", "table")
    if local_options:
        if name == "train":
            for key in local_options:
                check_choice(key, "worker evaluator option", "worker", TRAIN_LOCAL_OPTIONS)
        if name == "nb301-surrogate":  # this machine's folder of the same model
            for key in local_options:
                check_choice(key, "worker evaluator option", "worker", ["path"])
        opts = {**config.get("evaluator_options", {}), **local_options}
        config = {**config, "evaluator_options": opts}
    if name not in _REGISTRY:
        raise SearchError(
            f"The study uses evaluator {name!r}, which this worker does not have (it has "
            f"{', '.join(available_evaluators())}); register it with "
            "predictor_nas.distributed.register_evaluator or pass the evaluator object."
        )
    return _REGISTRY[name][0](config)
