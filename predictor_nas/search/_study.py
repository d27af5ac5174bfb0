"""What every search does with its study before it goes on: open or resume it in its storage,
take the single-process lock, check the stored options, fail the trials a dead run left behind.

``Budget`` (what a search may spend and why it stopped) and ``Progress`` (the stderr bar) live in
``_budget`` and are re-exported here: with ``open_study`` they are the start-up and loop of every
search (table, real-training, multi-objective, multi-fidelity, the distributed coordinator).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from predictor_nas.exceptions import StudyConfigMismatchError
from predictor_nas.search._budget import Budget, Progress
from predictor_nas.search._journal import StudyRunLock
from predictor_nas.search._storage import make_storage

log = logging.getLogger(__name__)

__all__ = ["Budget", "OpenStudy", "Progress", "check_study_config", "open_study"]


def check_study_config(
    study: optuna.Study,
    config: dict[str, Any],
    *,
    attr: str,
    name: str,
    storage: str | None,
    creator: str,
    name_option: str,
    where: str | None = None,
) -> None:
    """Store ``config`` in a new study, or check that a resumed one was created with it.

    Args:
        study: The study just created or loaded.
        config: The settings that change results (JSON-able).
        attr: Study user attribute holding them.
        name: Study name, for messages.
        storage: Storage spec, for messages.
        creator: What creates such studies, e.g. ``"predictor-nas search"``.
        name_option: How the user picks another name, e.g. ``"--study-name"``.
        where: The storage as messages show it (default ``repr(storage)``; a PostgreSQL URL
            without its password, say).

    Raises:
        StudyConfigMismatchError: The study has trials but no configuration (another tool's),
            or a different configuration; the differences are listed.
    """
    where = repr(storage) if where is None else where
    stored = study.user_attrs.get(attr)
    if stored is None:
        if study.trials:
            raise StudyConfigMismatchError(
                f"Study {name!r} in {where} was not created by {creator}; choose "
                f"another {name_option}."
            )
        study.set_user_attr(attr, config)
        return
    if stored != config:
        diff = ", ".join(
            f"{k}: stored {stored.get(k)!r}, now {config.get(k)!r}"
            for k in sorted(set(stored) | set(config))
            if stored.get(k) != config.get(k)
        )
        raise StudyConfigMismatchError(
            f"Study {name!r} in {where} was created with a different configuration ({diff}). "
            f"Use the original options to resume it, or another {name_option} for a new search."
        )


@dataclass
class OpenStudy:
    """A study opened by ``open_study``; ``close()`` it when the search loop ends.

    Attributes:
        study: The Optuna study.
        store: Its storage object (a buffered journal is synced on ``close``).
        lock: The single-process lock held on it, if any.
    """

    study: optuna.Study
    store: Any
    lock: Any = None

    def close(self) -> None:
        """Make a buffered journal's finished trials durable, then drop the lock (idempotent)."""
        try:
            if hasattr(self.store, "sync"):
                self.store.sync()
        finally:
            if self.lock is not None:
                self.lock.release()
                self.lock = None


def open_study(
    *,
    storage: str | None,
    name: str,
    config: dict[str, Any],
    attr: str,
    creator: str,
    name_option: str,
    store: Any = None,
    where: str | None = None,
    direction: str | None = None,
    directions: Sequence[str] | None = None,
    sampler: optuna.samplers.BaseSampler | None = None,
    pruner: optuna.pruners.BasePruner | None = None,
    lock: bool = False,
    interrupted: bool = True,
    distributions: dict[str, Any] | None = None,
) -> OpenStudy:
    """Create study ``name`` in ``storage`` or resume it, checked like every search checks it.

    Args:
        storage: Storage spec (``make_storage``), also named in messages.
        name: Study name.
        config, attr, creator, name_option, where: See ``check_study_config``.
        store: The storage object (default ``make_storage(storage)``).
        direction, directions: As for ``optuna.create_study``; a resumed study with other
            ``directions`` is refused.
        sampler, pruner: The study's initial sampler and pruner.
        lock: Take the ``StudyRunLock`` (a single-process search on a file storage).
        interrupted: Fail the trials a killed run of a single-process search left behind:
            RUNNING ones are told failed (the same step is proposed again), WAITING ones (an
            enqueued plan) are asked, with ``distributions``, and failed (Optuna cannot tell a
            WAITING trial). False: keep them (a multi-process study, or one whose trials are
            added whole).
        distributions: The space's distributions for asking WAITING trials (plain spaces;
            None: define-by-run).

    Returns:
        The ``OpenStudy``.

    Raises:
        StudyInUseError: ``lock`` and another process runs the same study in the same file.
        StudyConfigMismatchError: The stored study was created by something else or with other
            options or directions.
    """
    if store is None:
        store = make_storage(storage)
    run_lock = None
    if lock:
        run_lock = StudyRunLock.acquire(storage, name)
    opened = OpenStudy(None, store, run_lock)  # type: ignore[arg-type]
    try:
        opened.study = optuna.create_study(
            storage=store, study_name=name, direction=direction, directions=directions,
            load_if_exists=True, sampler=sampler, pruner=pruner,
        )
        where = repr(storage) if where is None else where
        if directions is not None:
            have = [d.name.lower() for d in opened.study.directions]
            if have != list(directions):
                raise StudyConfigMismatchError(
                    f"Study {name!r} in {where} has directions {have}, not {list(directions)}; "
                    f"use another {name_option}."
                )
        check_study_config(
            opened.study, config, attr=attr, name=name, storage=storage, creator=creator,
            name_option=name_option, where=where,
        )
        if interrupted:
            _fail_interrupted(opened.study, name, distributions)
    except BaseException:
        if run_lock is not None:
            run_lock.release()
        raise
    return opened


def _fail_interrupted(
    study: optuna.Study, name: str, distributions: dict[str, Any] | None
) -> None:
    """Fail the trials an interrupted run of a single-process search left (``open_study``)."""
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        # The query never finished: it is marked failed and the same step is proposed again.
        study.tell(t.number, state=TrialState.FAIL)
        log.info("marked interrupted trial %d of %s as failed", t.number, name)
    while study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        t = study.ask(fixed_distributions=distributions) if distributions else study.ask()
        study.tell(t, state=TrialState.FAIL)
        log.info("dropped queued trial %d of %s", t.number, name)
