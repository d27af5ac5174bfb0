"""What every search does with a stored study before it goes on: check its configuration."""

from __future__ import annotations

from typing import Any

import optuna

from predictor_nas.exceptions import StudyConfigMismatchError


def check_study_config(
    study: optuna.Study,
    config: dict[str, Any],
    *,
    attr: str,
    name: str,
    storage: str | None,
    creator: str,
    name_option: str,
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

    Raises:
        StudyConfigMismatchError: The study has trials but no configuration (another tool's),
            or a different configuration; the differences are listed.
    """
    stored = study.user_attrs.get(attr)
    if stored is None:
        if study.trials:
            raise StudyConfigMismatchError(
                f"Study {name!r} in {storage!r} was not created by {creator}; choose "
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
            f"Study {name!r} in {storage!r} was created with a different configuration ({diff}). "
            f"Use the original options to resume it, or another {name_option} for a new search."
        )
