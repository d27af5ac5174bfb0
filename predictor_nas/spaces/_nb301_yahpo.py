"""Reading YAHPO's NB301 configuration space (ConfigSpace JSON) into plain Python values."""

from __future__ import annotations

import json
import os
from typing import Any

from predictor_nas.exceptions import InvalidParameterError

#: Prefix of every decision name in YAHPO's files.
YAHPO_PREFIX = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"


def read_config_space(path: str | os.PathLike) -> dict[str, Any]:
    """Read YAHPO's NB301 ``config_space_v2.json`` into plain Python values.

    Args:
        path: The JSON file (ConfigSpace's JSON format).

    Returns:
        ``{"choices": {name: tuple of values}, "conditions": {child: (parent, tuple of parent
        values that activate it)}}`` with the ``YAHPO_PREFIX`` stripped from names; the
        non-categorical ``epoch`` fidelity is left out.
    """
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)

    def strip(name: str) -> str:
        return name[len(YAHPO_PREFIX) :] if name.startswith(YAHPO_PREFIX) else name

    choices = {
        strip(h["name"]): tuple(h["choices"])
        for h in raw["hyperparameters"]
        if h["type"] == "categorical"
    }
    conditions = {}
    for c in raw["conditions"]:
        if c["type"] != "IN":
            raise InvalidParameterError(
                f"{os.fspath(path)!r}: only 'IN' conditions are expected; got {c['type']!r}."
            )
        conditions[strip(c["child"])] = (strip(c["parent"]), tuple(c["values"]))
    return {"choices": choices, "conditions": conditions}
