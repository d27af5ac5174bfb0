"""NB201Space: string form, official index, isomorphism key, random moves and the Optuna mapping."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from hypothesis import given
from hypothesis import strategies as st
from optuna.distributions import CategoricalDistribution

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.spaces import NB201_EDGES, NB201_OPS, Arch, NB201Space, get_space

SPACE = NB201Space()
OPS = st.lists(st.sampled_from(NB201_OPS), min_size=6, max_size=6)
ARCHS = OPS.map(lambda ops: Arch("nb201", tuple(ops)))
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)

INDEX_0 = (
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+"
    "|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
)
INDEX_6111 = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
    "|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)
INDEX_13714 = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
    "|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
)
ALLOWED_OPS = "none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3"


def n_diff(a: Arch, b: Arch) -> int:
    return sum(x != y for x, y in zip(a.ops, b.ops))


# ------------------------------------------------------------------ invariants (hypothesis)
@given(ARCHS)
def test_parse_inverts_format(arch):
    """parse(format(a)) == a, and the string lists edges in edge_0..edge_5 order."""
    text = SPACE.format(arch)
    assert SPACE.parse(text) == arch
    assert SPACE.parse(f"  {text}\n") == arch
    assert str(arch) == text
    groups = text.split("+")
    assert [g.count("~") for g in groups] == [1, 2, 3]
    listed = [tok.split("~")[0] for g in groups for tok in g.strip("|").split("|")]
    assert tuple(listed) == arch.ops


@given(ARCHS)
def test_from_index_inverts_index(arch):
    """from_index(index(a)) == a and the index is in [0, 15624]."""
    i = SPACE.index(arch)
    assert 0 <= i < 15_625
    assert SPACE.from_index(i) == arch
    assert SPACE.from_index(np.int64(i)) == arch


@given(ARCHS)
def test_params_round_trip(arch):
    """to_params gives edge_0..edge_5 -> op, and from_params maps it back to the same arch."""
    params = SPACE.to_params(arch)
    assert list(params) == [f"edge_{k}" for k in range(6)]
    assert tuple(params.values()) == arch.ops
    assert SPACE.from_params(params) == arch
    assert SPACE.from_codes(SPACE.to_codes(arch)) == arch


@given(ARCHS, SEEDS)
def test_mutate_changes_exactly_one_edge(arch, seed):
    """mutate returns a valid arch that differs from its parent in exactly one edge."""
    child = SPACE.mutate(arch, seed)
    assert SPACE.validate(child) is child
    assert n_diff(arch, child) == 1


@given(ARCHS)
def test_neighbours_are_the_24_one_edge_changes(arch):
    """neighbours are 24 distinct valid archs, each one edge away, 4 per edge."""
    nbrs = SPACE.neighbours(arch)
    assert len(nbrs) == 24 == len(set(nbrs))
    assert arch not in nbrs
    assert all(n_diff(arch, n) == 1 for n in nbrs)
    changed = [next(k for k in range(6) if n.ops[k] != arch.ops[k]) for n in nbrs]
    assert sorted(changed) == sorted(list(range(6)) * 4)
    assert all(SPACE.validate(n) is n for n in nbrs)


@given(SEEDS)
def test_same_seed_same_samples_and_mutations(seed):
    """Two generators with the same seed give identical sample/mutate sequences."""

    def run(s: int) -> list[Arch]:
        g = np.random.default_rng(s)
        out = [SPACE.sample(g) for _ in range(5)]
        a = out[-1]
        for _ in range(5):
            a = SPACE.mutate(a, g)
            out.append(a)
        return out

    assert run(seed) == run(seed)
    assert SPACE.sample(seed) == SPACE.sample(seed)
    assert SPACE.mutate(SPACE.from_index(0), seed) == SPACE.mutate(SPACE.from_index(0), seed)


@given(ARCHS, OPS)
def test_key_ignores_edges_out_of_a_dead_node(arch, other):
    """With edge (0,1) = none, node 1 is zero, so edges (1,2) and (1,3) do not change the key."""
    a = list(arch.ops)
    a[0] = "none"
    b = list(a)
    b[2], b[4] = other[2], other[4]
    assert SPACE.canonical_key(SPACE.make(a)) == SPACE.canonical_key(SPACE.make(b))


@given(ARCHS)
def test_key_invariant_under_swapping_paths_through_an_identity_node(arch):
    """With edge (0,1) = skip, node 1 equals node 0: swapping edges (0,2)<->(1,2) or (0,3)<->(1,3)
    computes the same cell and keeps the key."""
    a = list(arch.ops)
    a[0] = "skip_connect"
    b = list(a)
    b[1], b[2] = a[2], a[1]
    c = list(a)
    c[3], c[4] = a[4], a[3]
    keys = {SPACE.canonical_key(SPACE.make(x)) for x in (a, b, c)}
    assert len(keys) == 1


def test_key_known_isomorphic_and_distinct_pairs():
    """Known pairs: all-none cells are one class; conv-only cells are 729 distinct classes."""
    p = SPACE.parse
    # Output only reachable through zero edges: every such cell computes zero.
    zero_a = p("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    zero_b = p("|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|none~1|none~2|")
    assert SPACE.canonical_key(zero_a) == SPACE.canonical_key(zero_b) == "#+#+#"
    # node 1 = node 0 (skip), conv on (0,3) vs on (1,3): same function.
    a = p("|skip_connect~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|none~2|")
    b = p("|skip_connect~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|")
    assert SPACE.canonical_key(a) == SPACE.canonical_key(b)
    # ... but not when node 1 is a conv of the input.
    c = p("|nor_conv_1x1~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|none~2|")
    d = p("|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|")
    assert SPACE.canonical_key(c) != SPACE.canonical_key(d)
    # Without none/skip every op is visible in the key: all 3**6 cells are distinct.
    convs = ("nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    keys = {SPACE.canonical_key(a) for a in SPACE if all(op in convs for op in a.ops)}
    assert len(keys) == 3**6


# ------------------------------------------------------------------ facts about the space
def test_space_size_and_unique_cells():
    """The space has 15,625 archs, 6,466 classes under the isomorphism key, all indices distinct."""
    archs = list(SPACE)
    assert SPACE.size == len(archs) == 15_625 == 5**6
    assert len(set(archs)) == 15_625
    assert len({SPACE.canonical_key(a) for a in archs}) == 6466
    assert sorted(SPACE.index(a) for a in archs) == list(range(15_625))
    assert [SPACE.index(a) for a in archs[:100]] == list(range(100))


@pytest.mark.parametrize(
    ("index", "text"), [(0, INDEX_0), (6111, INDEX_6111), (13714, INDEX_13714)]
)
def test_official_index(index, text):
    """Indices follow NAS-Bench-201's official order (api.query_by_index)."""
    assert SPACE.format(SPACE.from_index(index)) == text
    assert SPACE.index(SPACE.parse(text)) == index


def test_space_constants_and_registry():
    """Ops, edge order and param names are fixed; get_space('nb201') is one shared NB201Space."""
    assert NB201_OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    assert NB201_EDGES == ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
    assert SPACE.param_names == ("edge_0", "edge_1", "edge_2", "edge_3", "edge_4", "edge_5")
    assert isinstance(get_space("nb201"), NB201Space)
    assert get_space("nb201") is get_space("nb201")


def test_sample_covers_ops_uniformly():
    """2,000 samples use every op on every edge about 1/5 of the time."""
    g = np.random.default_rng(0)
    codes = np.array([SPACE.to_codes(SPACE.sample(g)) for _ in range(2000)])
    freq = np.stack([np.bincount(codes[:, k], minlength=5) for k in range(6)]) / 2000
    assert np.all(np.abs(freq - 0.2) < 0.04)


def test_random_moves_need_a_seed():
    """sample/mutate refuse rng=None (every random component takes an explicit seed)."""
    with pytest.raises(TypeError, match="seed"):
        SPACE.sample(None)
    with pytest.raises(TypeError, match="seed"):
        SPACE.mutate(SPACE.from_index(0), None)


# ------------------------------------------------------------------ bad input
BAD_STRINGS = [
    ("", "3 node groups joined by '\\+'.*got 1 group"),
    ("|none~0|+|none~0|none~1|", "3 node groups.*got 2 group"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|", "3 node groups.*got 4 group"),
    ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "group 1 .*must start and end with '\\|'"),
    ("|none~0|+|none~0|none~1+|none~0|none~1|none~2|", "group 2 .*must start and end with '\\|'"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "Node 2 must have 2 incoming edge"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|none~3|", "Node 3 must have 3 incoming"),
    ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must have source node 0"),
    ("|none~0|+|none~1|none~0|+|none~0|none~1|none~2|", "must have source node 0"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|none~1|", "must have source node 2"),
    ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", f"Unknown operation 'conv'.*{ALLOWED_OPS}"),
    ("|none|+|none~0|none~1|+|none~0|none~1|none~2|", "'none' .*not of the form 'op~source'"),
    ("|none~a|+|none~0|none~1|+|none~0|none~1|none~2|", "not of the form 'op~source'"),
]


@pytest.mark.parametrize(("text", "message"), BAD_STRINGS)
def test_parse_rejects_malformed_strings(text, message):
    """Each malformed string raises InvalidArchitectureError naming the problem and the form."""
    with pytest.raises(InvalidArchitectureError, match=message):
        SPACE.parse(text)


@pytest.mark.parametrize("value", [None, 3, b"|none~0|", ["none"] * 6])
def test_parse_rejects_non_strings(value):
    """parse of a non-str raises InvalidArchitectureError saying a str is required."""
    with pytest.raises(InvalidArchitectureError, match="must be a str; got"):
        SPACE.parse(value)


def test_errors_are_value_errors():
    """InvalidArchitectureError is also a ValueError (callers can catch either)."""
    with pytest.raises(ValueError, match="3 node groups"):
        SPACE.parse("nope")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({f"edge_{k}": "none" for k in range(5)}, "miss edge_5; expected exactly edge_0, edge_1"),
        ({}, "miss edge_0, edge_1, edge_2, edge_3, edge_4, edge_5"),
        (
            {**{f"edge_{k}": "none" for k in range(6)}, "edge_6": "none", "x": 1},
            "unknown keys edge_6, x; expected exactly edge_0",
        ),
        (
            {**{f"edge_{k}": "none" for k in range(6)}, "edge_3": "sep_conv"},
            f"Unknown operation 'sep_conv' on edge_3; allowed: {ALLOWED_OPS}",
        ),
    ],
)
def test_from_params_rejects_bad_params(params, message):
    """Missing/extra keys and unknown ops raise InvalidArchitectureError saying what is expected."""
    with pytest.raises(InvalidArchitectureError, match=message):
        SPACE.from_params(params)


@pytest.mark.parametrize(
    "index", [-1, 15_625, 10**9, True, 2.5, "3", "abc", None, float("nan"), float("inf")]
)
def test_from_index_rejects_out_of_range(index):
    """from_index outside [0, 15624] or of a non-int raises InvalidArchitectureError (the range)."""
    with pytest.raises(InvalidArchitectureError, match=r"must be an int in \[0, 15624\]"):
        SPACE.from_index(index)


def test_validate_rejects_foreign_and_malformed_archs():
    """validate names the wrong space, the wrong length, or the unknown op and what is allowed."""
    with pytest.raises(InvalidArchitectureError, match="space 'nb101', not 'nb201'"):
        SPACE.validate(Arch("nb101", ("none",) * 6))
    with pytest.raises(InvalidArchitectureError, match=r"has 6 operations .*got 5"):
        SPACE.validate(Arch("nb201", ("none",) * 5))
    with pytest.raises(InvalidArchitectureError, match=f"'conv' on edge_5; allowed: {ALLOWED_OPS}"):
        SPACE.make(["none"] * 5 + ["conv"])
    with pytest.raises(InvalidArchitectureError, match="Expected an Arch of space 'nb201', got"):
        SPACE.validate("|none~0|")
    with pytest.raises(InvalidArchitectureError, match=r"6 ints in \[0, 4\]"):
        SPACE.from_codes([0, 1, 2, 3, 4, 5])


def test_get_space_rejects_unknown_name():
    """get_space('nope') raises InvalidParameterError in the standard message form."""
    with pytest.raises(InvalidParameterError) as exc:
        get_space("nope")
    assert str(exc.value).startswith("The 'space' parameter of get_space must be one of ")
    assert "'nb201'" in str(exc.value) and "'nb301'" in str(exc.value)
    assert str(exc.value).endswith("or a path to a .yaml declaration. Got 'nope' instead.")


# ------------------------------------------------------------------ Optuna mapping
def test_distributions_are_categorical_over_the_ops():
    """distributions() maps edge_0..edge_5 to a CategoricalDistribution over the 5 ops."""
    dists = SPACE.distributions()
    assert list(dists) == list(SPACE.param_names)
    for d in dists.values():
        assert isinstance(d, CategoricalDistribution)
        assert tuple(d.choices) == NB201_OPS


def test_optuna_ask_gives_params_from_params_accepts():
    """Params that an Optuna study asks for with distributions() are accepted by from_params."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(30):
        trial = study.ask(SPACE.distributions())
        arch = SPACE.from_params(trial.params)
        assert SPACE.to_params(arch) == trial.params
        seen.add(arch)
        study.tell(trial, float(SPACE.index(arch)))
    assert len(seen) > 20


def test_optuna_enqueued_arch_comes_back():
    """An arch enqueued as to_params(arch) is asked back and from_params restores it."""
    arch = SPACE.from_index(6111)
    study = optuna.create_study()
    study.enqueue_trial(SPACE.to_params(arch))
    trial = study.ask(SPACE.distributions())
    assert SPACE.from_params(trial.params) == arch
    assert SPACE.format(SPACE.from_params(trial.params)) == INDEX_6111


def test_prune_keeps_the_function_and_is_idempotent():
    """prune() sets dead ops to none without changing the canonical key, and is idempotent."""
    space = get_space("nb201")
    archs = list(space)
    pruned = [space.prune(a) for a in archs]
    assert all(space.canonical_key(p) == space.canonical_key(a) for p, a in zip(pruned, archs))
    assert all(space.prune(p) == p for p in set(pruned))
    assert sum(p != a for p, a in zip(pruned, archs)) == 5840
    assert len(set(pruned)) == 9785  # fewer strings, but still more than the 6,466 classes


def test_prune_removes_ops_cut_off_from_the_input():
    """With edge 0->1 'none', the ops leaving node 1 are dead and become 'none'."""
    space = get_space("nb201")
    a = space.parse("|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|")
    assert space.format(space.prune(a)) == (
        "|none~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    )
