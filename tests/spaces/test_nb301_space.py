"""NB301Space: conditional DARTS decisions, sampling, moves, string/index forms and validation."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.spaces import (
    NB201Space,
    NB301Space,
    available_spaces,
    get_space,
    read_config_space,
)
from predictor_nas.spaces._nb301 import INACTIVE

SPACE = NB301Space()
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)

#: The example of ../shared/data/README.md, section surrogates/yahpo: inputs "0_1" everywhere,
#: every active edge sep_conv_3x3 (active edges 0, 1, 2, 3, 5, 6, 9, 10 in both cells).
EXAMPLE = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1)], normal_concat=[2, 3, 4, 5], reduce=[('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
#: README "Output (verified)": epoch -> (val_accuracy, val_cross_entropy, runtime), 4 decimals.
EXAMPLE_OUTPUT = {
    1: (0.5768, 1.1886, 220.3844),
    50: (0.9044, 0.3139, 3556.9565),
    98: (0.9302, 0.2683, 5307.8667),
}


def conditions_hold(params: dict, conditions: dict) -> bool:
    """Every conditional edge is in params exactly when its parent's value activates it."""
    for child, (parent, values) in conditions.items():
        if (child in params) != (params[parent] in values):
            return False
    return True


# ------------------------------------------------------------------ the space
def test_registered_and_shaped():
    """get_space('nb301') is one shared NB301Space with 34 decisions in YAHPO's column order."""
    assert "nb301" in available_spaces()
    assert get_space("nb301") is get_space("nb301")
    assert isinstance(get_space("nb301"), NB301Space)
    names = SPACE.param_names
    assert len(names) == 34
    assert names[:14] == tuple(f"edge_normal_{i}" for i in range(14))
    assert names[14:28] == tuple(f"edge_reduce_{i}" for i in range(14))
    assert names[28:] == tuple(
        f"inputs_node_{c}_{n}" for c in ("normal", "reduce") for n in (3, 4, 5)
    )
    assert SPACE.size == (3 * 6 * 10 * 7**8) ** 2


def test_nb201_distributions_unchanged():
    """The base-class param_choices extension leaves NB201's Optuna distributions as before."""
    d = NB201Space().distributions()
    assert list(d) == [f"edge_{k}" for k in range(6)]
    assert all(tuple(x.choices) == NB201Space.choices for x in d.values())


def test_matches_yahpo_config_space(shared_data):
    """Decisions, values and conditions equal those of YAHPO's config_space_v2.json."""
    cs = read_config_space(shared_data / "surrogates/yahpo/nb301/config_space_v2.json")
    assert cs["choices"] == {p: SPACE.param_choices(p) for p in SPACE.param_names}
    assert cs["conditions"] == SPACE.conditions()
    assert len(cs["conditions"]) == 24


@settings(max_examples=60, deadline=None)
@given(SEEDS)
def test_sampling_respects_conditions(seed):
    """sample() gives valid archs whose params satisfy every condition; 8 active edges a cell."""
    arch = SPACE.sample(seed)
    params = SPACE.to_params(arch)
    assert conditions_hold(params, SPACE.conditions())
    assert len(params) == 22
    assert sum(p.startswith("edge_normal") for p in params) == 8
    for p, v in params.items():
        assert v in SPACE.param_choices(p)
    assert SPACE.from_params(params) == arch


@settings(max_examples=40, deadline=None)
@given(SEEDS, st.integers(min_value=1, max_value=30))
def test_mutation_chains_stay_valid(seed, n):
    """Chains of mutate() stay valid, and each step changes exactly one active decision."""
    rng = np.random.default_rng(seed)
    arch = SPACE.sample(rng)
    conds = SPACE.conditions()
    for _ in range(n):
        new = SPACE.mutate(arch, rng)
        SPACE.validate(new)
        a, b = SPACE.to_params(arch), SPACE.to_params(new)
        assert conditions_hold(b, conds)
        changed_inputs = [p for p in a if p.startswith("inputs") and a[p] != b[p]]
        changed_ops = [p for p in a if p in b and p.startswith("edge") and a[p] != b[p]]
        assert len(changed_inputs) + len(changed_ops) == 1
        arch = new


@settings(max_examples=15, deadline=None)
@given(SEEDS)
def test_neighbours_are_valid_and_distinct(seed):
    """neighbours(): 96 op changes + 32 rewires, all valid, distinct and different from arch."""
    arch = SPACE.sample(seed)
    nb = SPACE.neighbours(arch)
    assert len(nb) == 16 * 6 + 2 * (2 + 5 + 9)
    keys = {SPACE.canonical_key(a) for a in nb}
    assert len(keys) == len(nb) and SPACE.canonical_key(arch) not in keys
    assert all(conditions_hold(SPACE.to_params(a), SPACE.conditions()) for a in nb)


@settings(max_examples=60, deadline=None)
@given(SEEDS)
def test_string_and_index_round_trips(seed):
    """parse(format(a)) == a, from_index(index(a)) == a and from_codes(to_codes(a)) == a."""
    arch = SPACE.sample(seed)
    assert SPACE.parse(SPACE.format(arch)) == arch
    assert str(arch) == SPACE.format(arch)
    i = SPACE.index(arch)
    assert 0 <= i < SPACE.size and SPACE.from_index(i) == arch
    assert SPACE.from_codes(SPACE.to_codes(arch)) == arch


def test_index_corners_and_example_string():
    """Index 0 is all max_pool on inputs 0_1; the README example parses with the right ops."""
    first = SPACE.from_index(0)
    assert set(SPACE.to_params(first).values()) == {"max_pool_3x3", "0_1"}
    last = SPACE.from_index(SPACE.size - 1)
    assert SPACE.index(last) == SPACE.size - 1
    assert SPACE.to_params(last)["inputs_node_normal_5"] == "3_4"
    ex = SPACE.parse(EXAMPLE)
    assert SPACE.format(ex) == EXAMPLE
    active = [int(p.rsplit("_", 1)[1]) for p in SPACE.to_params(ex) if p.startswith("edge_normal")]
    assert active == [0, 1, 2, 3, 5, 6, 9, 10]
    # order of a node's two inputs does not matter; range(2, 6) is accepted for concat
    swapped = EXAMPLE.replace(
        "normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)",
        "normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0)",
    ).replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(2, 6)")
    assert SPACE.parse(swapped) == ex


def test_define_by_run_objective_is_accepted():
    """Optuna's define-by-run sampling of the conditional params gives archs from_params takes."""
    conds = SPACE.conditions()

    def objective(trial):
        params = {}
        for p in SPACE.param_names:
            if p.startswith("inputs"):
                params[p] = trial.suggest_categorical(p, list(SPACE.param_choices(p)))
        for p in SPACE.param_names:
            if p.startswith("edge") and (p not in conds or params[conds[p][0]] in conds[p][1]):
                params[p] = trial.suggest_categorical(p, list(SPACE.param_choices(p)))
        arch = SPACE.from_params(trial.params)
        assert SPACE.to_params(arch) == params
        return float(len(set(arch.ops)))

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=15)
    assert len(study.trials) == 15


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"edge_normal_2": INACTIVE}, "edge_normal_2 is active"),
        ({"edge_normal_4": "skip_connect"}, "edge_normal_4 is inactive"),
        ({"inputs_node_normal_3": "0_3"}, "Unknown input pair '0_3'"),
        ({"edge_reduce_0": "conv_7x7"}, "edge_reduce_0 is active"),
    ],
)
def test_validate_rejects_inconsistent_archs(change, message):
    """validate() names the decision that breaks a condition or has an unknown value."""
    ops = dict(zip(SPACE.param_names, SPACE.parse(EXAMPLE).ops))
    ops.update(change)
    with pytest.raises(InvalidArchitectureError, match=message):
        SPACE.make([ops[p] for p in SPACE.param_names])


def test_from_params_and_parse_errors():
    """from_params refuses inactive or missing edges; parse refuses malformed Genotypes."""
    params = SPACE.to_params(SPACE.parse(EXAMPLE))
    with pytest.raises(InvalidArchitectureError, match="edge_normal_4 is inactive"):
        SPACE.from_params({**params, "edge_normal_4": "skip_connect"})
    with pytest.raises(InvalidArchitectureError, match="miss the active edge edge_reduce_9"):
        SPACE.from_params({k: v for k, v in params.items() if k != "edge_reduce_9"})
    with pytest.raises(InvalidArchitectureError, match="inputs_node_reduce_5"):
        SPACE.from_params({k: v for k, v in params.items() if k != "inputs_node_reduce_5"})
    with pytest.raises(InvalidArchitectureError, match="unknown keys epoch"):
        SPACE.from_params({**params, "epoch": 3})
    with pytest.raises(InvalidArchitectureError, match="exactly 8"):
        SPACE.parse(EXAMPLE.replace("('sep_conv_3x3', 1)], normal_concat", "], normal_concat"))
    with pytest.raises(InvalidArchitectureError, match="two distinct sources < 3"):
        SPACE.parse(
            EXAMPLE.replace(
                "('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0)",
                "('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 3), ('sep_conv_3x3', 0)",
                1,
            )
        )
    with pytest.raises(InvalidArchitectureError, match="Unknown operation 'none'"):
        SPACE.parse(EXAMPLE.replace("sep_conv_3x3", "none", 1))
    with pytest.raises(InvalidArchitectureError, match="_concat must be"):
        SPACE.parse(EXAMPLE.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[4, 5]"))
    with pytest.raises(InvalidArchitectureError, match="looks like"):
        SPACE.parse("|nor_conv_3x3~0|")
    with pytest.raises(InvalidParameterError, match="param_choices must be one of"):
        SPACE.param_choices("epoch")
