"""Declared spaces (Python and YAML): conditions, constraints, moves, strings, graphs, registry."""

from __future__ import annotations

import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.spaces import (
    INACTIVE,
    NB201_OPS,
    ArchGraph,
    CellEdgesSpace,
    CellNodesSpace,
    ChainSpace,
    Decision,
    DeclaredSpace,
    available_spaces,
    forbid,
    get_space,
    load_space,
    register_space,
    shipped_spaces_dir,
)

SHIPPED = ["layer_chain", "tiny_cell", "nb101", "nas_bench_macro", "mobilenet_macro"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_declarations_are_registered_by_file_name(name):
    """Every data/spaces/*.yaml is found by its name and declares that name."""
    assert name in available_spaces()
    assert (shipped_spaces_dir() / f"{name}.yaml").is_file()
    assert get_space(name).name == name


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(SHIPPED), seed=st.integers(0, 2**31 - 1))
def test_every_move_gives_valid_architectures(name, seed):
    """sample, mutate, neighbours and crossover stay in the space and round-trip as strings."""
    sp = get_space(name)
    a, b = sp.sample(seed), sp.sample(seed + 1)
    for arch in (a, sp.mutate(a, seed), sp.crossover(a, b, seed), *sp.neighbours(a)[:10]):
        sp.validate(arch)
        assert sp.parse(str(arch)) == arch
        assert sp.from_params(sp.to_params(arch)) == arch
        g = sp.graph(arch)
        assert g.labels[0] == "input" and g.labels[-1] == "output"
    assert sp.mutate(a, seed) != a
    assert a not in sp.neighbours(a)


def test_chain_conditions_pool_has_no_filters_and_depth_gates_layers():
    """A pool layer has no filters; layers past n_layers are inactive and not in the params."""
    sp = get_space("layer_chain")
    archs = [sp.sample(s) for s in range(300)]
    for arch in archs:
        values = sp.values(arch)
        for lay in range(sp.max_layers):
            t = values[f"layer_{lay}_type"]
            if t == "pool":
                assert values[f"layer_{lay}_filters"] is INACTIVE
            if t is INACTIVE:
                assert lay >= values["n_layers"]
                assert f"layer_{lay}_kernel_size" not in sp.to_params(arch)
        assert len(sp.layers(arch)) == values["n_layers"]
        assert sp.graph(arch).n_nodes == values["n_layers"] + 2
    assert {sp.values(a)["n_layers"] for a in archs} == {1, 2, 3, 4}
    with pytest.raises(InvalidArchitectureError, match="layer_0_filters is inactive"):
        sp.parse(
            "n_layers=1,layer_0_type=pool,layer_0_filters=32,layer_0_kernel_size=3,"
            "layer_0_stride=1,layer_0_padding=same"
        )


def test_chain_layer_constraint_is_honoured_by_every_move():
    """A forbidden within-layer combination never comes out of sample, mutate or neighbours."""
    sp = ChainSpace(
        "chain_rule",
        {"conv": {"filters": [8, 16], "stride": [1, 2]}, "pool": {"stride": [1, 2]}},
        max_layers=3,
        layer_constraints=[{"type": "pool", "stride": 1}],
    )

    def ok(arch):
        return all(not (lay["type"] == "pool" and lay["stride"] == 1) for lay in sp.layers(arch))

    archs = [sp.sample(s) for s in range(200)]
    archs += [sp.mutate(a, 7) for a in archs] + [n for a in archs[:20] for n in sp.neighbours(a)]
    assert all(ok(a) for a in archs)
    assert all(ok(a) for a in sp)  # grid
    with pytest.raises(InvalidArchitectureError, match="layer 0 must not have type=pool, stride=1"):
        sp.parse("n_layers=1,layer_0_type=pool,layer_0_stride=1")


def test_python_predicate_constraint_and_grid_size():
    """A user predicate restricts the space; size and iteration count only valid archs."""
    decisions = [Decision("a", (1, 2, 3)), Decision("b", ("x", "y"))]
    sp = DeclaredSpace("pred", decisions, [forbid("no a=3 with y", a=3, b="y")])
    assert sp.size == 5 and len(list(sp)) == 5
    assert all(sp.from_index(sp.index(a)) == a for a in sp)
    with pytest.raises(InvalidArchitectureError, match="no a=3 with y"):
        sp.make([3, "y"])


def test_cell_nodes_refuses_disconnected_and_too_many_edges_and_prunes_dead_nodes():
    """NB101-like cells: no input-output path or > max_edges refused; dead nodes pruned."""
    sp = get_space("nb101")
    ops5 = ["conv3x3-bn-relu"] * 5
    no_path = [[0] * 7 for _ in range(7)]
    no_path[0][1] = 1
    with pytest.raises(InvalidArchitectureError, match="input to the output"):
        sp.from_matrix(no_path, ops5)
    dense = [[1 if j > i else 0 for j in range(7)] for i in range(7)]
    with pytest.raises(InvalidArchitectureError, match="at most 9 edges"):
        sp.from_matrix(dense, ops5)
    m = [[0] * 7 for _ in range(7)]
    m[0][1] = m[1][6] = 1  # the live path
    m[0][2] = 1  # node 2 never reaches the output: dead
    arch = sp.from_matrix(m, ops5)
    pruned = sp.prune(arch)
    assert sp.values(pruned)["edge_0_2"] == 0 and sp.values(pruned)["edge_0_1"] == 1
    assert sp.canonical_key(arch) == sp.canonical_key(pruned)
    assert sp.graph(arch).pruned().n_nodes == 3


def test_cell_nodes_canonical_key_is_isomorphism_invariant():
    """Swapping two intermediate nodes (ops and edges) keeps the key; another op changes it."""
    sp = get_space("nb101")
    m = [[0] * 7 for _ in range(7)]
    m[0][1] = m[0][2] = m[1][6] = m[2][6] = 1
    a = sp.from_matrix(m, ["conv3x3-bn-relu", "maxpool3x3", *["conv1x1-bn-relu"] * 3])
    b = sp.from_matrix(m, ["maxpool3x3", "conv3x3-bn-relu", *["conv1x1-bn-relu"] * 3])
    c = sp.from_matrix(m, ["maxpool3x3", "maxpool3x3", *["conv1x1-bn-relu"] * 3])
    assert a != b and sp.canonical_key(a) == sp.canonical_key(b) != sp.canonical_key(c)


def test_cell_edges_generic_keeps_nb201_isomorphism_count():
    """A cell_edges space with NB201's ops and DAG has NB201's 6,466 classes and strings."""
    sp = CellEdgesSpace("nb201_like", NB201_OPS)
    register_space(sp, replace=True)
    nb201 = get_space("nb201")
    assert len({sp.canonical_key(a) for a in sp}) == 6466
    arch = nb201.from_index(123)
    twin = sp.parse(str(arch))
    assert str(twin) == str(arch) and sp.canonical_key(twin) == nb201.canonical_key(arch)
    assert sp.prune(twin).ops == nb201.prune(arch).ops
    assert len({get_space("tiny_cell").canonical_key(a) for a in get_space("tiny_cell")}) == 127


def test_define_by_run_random_search_gives_valid_conditional_archs():
    """space.suggest in an Optuna objective asks only the active decisions."""
    sp = get_space("mobilenet_macro")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = []
    study.optimize(lambda t: len(sp.layers(seen.append(sp.suggest(t)) or seen[-1])), n_trials=30)
    for t, arch in zip(study.trials, seen):
        assert sp.from_params(t.params) == arch


def test_graph_wl_hash_ignores_node_numbering():
    """Isomorphic graphs with different node orders hash equal; a relabelled node does not."""
    g1 = ArchGraph(("input", "a", "b", "output"), ((0, 1), (0, 2), (1, 3), (2, 3)))
    g2 = ArchGraph(("input", "b", "a", "output"), ((0, 1), (0, 2), (1, 3), (2, 3)))
    g3 = ArchGraph(("input", "a", "a", "output"), ((0, 1), (0, 2), (1, 3), (2, 3)))
    assert g1.wl_hash() == g2.wl_hash() != g3.wl_hash()
    assert g1.pruned(frozenset({"a"})).edges == ((0, 1), (1, 2))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("kind: chain\n", "the key 'name' is missing"),
        ("name: x\nkind: tree\n", "'kind' must be one of cell_edges, cell_nodes, chain, macro"),
        ("name: x\nkind: cell_edges\nops: [a]\ncolour: red\n", "unknown key\\(s\\) 'colour'"),
        ("name: x\nkind: macro\nblocks: [a]\n", "needs the key\\(s\\) 'stages'"),
        ("name: x\nkind: cell_edges\nops: [a, b]\nnodes: 1\n", "'n_nodes' must be an int >= 2"),
        (
            "name: x\nkind: chain\nlayers: {conv: {k: [1]}}\nforbid: [{kk: 1}]\n",
            "'forbid' names 'kk'",
        ),
        (
            "name: x\nkind: chain\nlayers: {conv: {k: [1]}, pool: {k: [2]}}\n",
            "setting 'k' has choices",
        ),
        ("name: x\nkind: [\n", "is not valid YAML"),
        ("name: x\nkind: cell_edges\nops: [conv, 7]\n", "'ops' must be a non-empty list of op"),
        ("name: x\nkind: cell_nodes\nops: conv\n", "'ops' must be a non-empty list of op"),
        (
            "name: x\nkind: cell_edges\nops: [none, conv]\nzero_ops: [nnone]\n",
            "'zero_ops' names 'nnone', not in 'ops' \\(none, conv\\)",
        ),
        ("name: x\nkind: cell_edges\nops: [a]\nidentity_ops: skip\n", "'identity_ops' must be"),
        (
            "name: x\nkind: chain\nlayers: {conv: {filters: [32, yes]}}\n",
            "setting 'filters' of layer type 'conv' mix types \\(bool, number\\)",
        ),
        (
            "name: x\nkind: macro\nblocks: [a, 3]\nstages: [{depth: [1]}]\n",
            "'blocks' must be a list of block names",
        ),
    ],
)
def test_bad_space_file_names_the_file_and_the_key(tmp_path, text, match):
    """A bad declaration is refused with the file name and what is wrong."""
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InvalidParameterError, match=match) as exc:
        load_space(path)
    assert "bad.yaml" in str(exc.value)


def test_space_file_registers_under_its_name_and_conflicts_are_refused(tmp_path):
    """get_space(path) registers the declared name; another space of that name is refused."""
    path = tmp_path / "mine.yaml"
    path.write_text("name: my_cell_x\nkind: cell_edges\nops: [none, conv]\nnodes: 3\n")
    sp = get_space(str(path))
    assert sp.name == "my_cell_x" and get_space("my_cell_x") is sp and sp.size == 8
    other = CellEdgesSpace("my_cell_x", ["none", "pool"], n_nodes=3)
    with pytest.raises(InvalidParameterError, match="already registered"):
        register_space(other)
    register_space(other, replace=True)
    assert get_space("my_cell_x") is other
    with pytest.raises(InvalidParameterError, match="must be a SearchSpace or a factory"):
        register_space(3)


def test_python_declared_space_through_register_space():
    """A space built in Python and registered is found by name, and str(arch) works."""
    sp = CellNodesSpace("tiny_nodes_py", ["a", "b"], max_nodes=4, max_edges=4)
    register_space(sp)
    arch = get_space("tiny_nodes_py").sample(0)
    assert str(arch) == sp.format(arch) and "|" in str(arch)


def test_nb201_dead_cells_and_prune_as_documented():
    """NB201: 341 cells have no live path; 5 key classes; 225 prune to all-none (docstring)."""
    sp = get_space("nb201")
    allnone = sp.make(["none"] * 6)
    dead = [a for a in sp if not list(sp.graph(a).paths(frozenset({"none"})))]
    assert len(dead) == 341
    assert len({sp.canonical_key(a) for a in dead}) == 5
    assert sum(sp.prune(a) == allnone for a in dead) == 225
    assert len({sp.canonical_key(a) for a in sp}) == 6466
