"""The nas_bench_graph space: the 26,206 GNN architectures NAS-Bench-Graph lists, its moves,
strings, order, graph and Optuna mapping."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import optuna
import pytest

from predictor_nas.exceptions import InvalidArchitectureError
from predictor_nas.search import ask_arch, make_sampler
from predictor_nas.spaces import NBG_LINK_NAMES, NBG_OPS, Arch, get_space
from predictor_nas.spaces._nas_bench_graph import (
    N_LISTED,
    NASBenchGraphSpace,
    arch_key,
    key_decisions,
    read_key_file,
    shipped_key_file,
    write_key_file,
)
from predictor_nas.testing.pytest_samplers import BasicSamplerContract, objective_value

SPACE = get_space("nas_bench_graph")
KEYS = frozenset(SPACE.keys)


def test_space_lists_the_benchmarks_26206_architectures():
    """The shipped key file holds 26,206 sorted distinct keys; the space is exactly that list."""
    assert len(SPACE.keys) == N_LISTED == SPACE.size == 26_206
    assert list(SPACE.keys) == sorted(KEYS)
    assert SPACE.keys[0] == 0 and SPACE.keys[-1] == 88887  # all gat; link 8 skip,skip,skip,fc
    assert 88888 not in KEYS  # the all-skip network is not a GNN
    assert shipped_key_file().stat().st_size < 100_000  # a small fact list, not a table


def test_key_is_link_then_op_digits():
    """key = link_index * 10**4 + sum(op_k * 10**(3-k)) in the 9-op list, also for proteins'."""
    assert arch_key(0, (1, 1, 1, 1)) == 1111
    assert SPACE.format(SPACE.from_key(1111)) == "link=0-0-0-0|gcn,gcn,gcn,gcn"
    arch = SPACE.from_key(30200)
    assert arch.ops == ("0-0-1-2", "gat", "gin", "gat", "gat")
    assert SPACE.key(arch) == 30200
    assert key_decisions(30200) == (3, (0, 2, 0, 0))
    for bad in (99999, 90000, 1119 * 10, -1, True, "1111"):
        with pytest.raises(ValueError, match="not a NAS-Bench-Graph key"):
            key_decisions(bad)


def test_index_round_trips_over_every_key():
    """index / from_index run over the sorted key list, both ways, for all 26,206 archs."""
    archs = list(SPACE)
    assert [SPACE.key(a) for a in archs] == list(SPACE.keys)
    assert all(SPACE.index(a) == i for i, a in enumerate(archs))
    assert all(SPACE.from_index(i) == a for i, a in enumerate(archs))
    with pytest.raises(InvalidArchitectureError, match=r"\[0, 26205\]"):
        SPACE.from_index(26_206)


def test_format_parse_round_trip_over_every_key():
    """format then parse gives the same arch for every listed arch; whitespace is allowed."""
    for arch in SPACE:
        text = SPACE.format(arch)
        assert SPACE.parse(text) == arch
        assert str(arch) == text
    assert SPACE.parse("  link = 0-0-1-2 | gat , gin,gat, gat ") == SPACE.from_key(30200)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("link=0-0-1-2|gat,gcn,skip,fc", "not one of the 26,206 architectures"),
        ("link=0-0-0-0|skip,skip,skip,skip", "not one of the 26,206"),
        ("link=0-0-0-2|gat,gat,gat,gat", "link '0-0-0-2' is not one of"),
        ("link=0-0-0-0|gat,gat,gat,conv", "unknown operation.*'conv'"),
        ("link=0-0-0-0|gat,gat,gat", "expected 'link=L|op0,op1,op2,op3'"),
        ("0-0-0-0|gat,gat,gat,gat", "expected 'link=L"),
        ("|gat~0|+|", "expected 'link=L"),
    ],
)
def test_parse_refuses_what_the_benchmark_does_not_list(text, match):
    """Bad strings and unlisted (non-canonical) archs raise InvalidArchitectureError saying why."""
    with pytest.raises(InvalidArchitectureError, match=match):
        SPACE.parse(text)


def test_sample_mutate_crossover_stay_listed():
    """500 samples, mutations and crossovers are all listed; samples cover many links."""
    rng = np.random.default_rng(0)
    samples = [SPACE.sample(rng) for _ in range(500)]
    assert all(SPACE.key(a) in KEYS for a in samples)
    assert len({a.ops[0] for a in samples}) == 9
    for a, b in zip(samples[:250], samples[250:]):
        m = SPACE.mutate(a, rng)
        assert m != a and SPACE.key(m) in KEYS
        assert sum(x != y for x, y in zip(a.ops, m.ops)) == 1
        c = SPACE.crossover(a, b, rng)
        assert SPACE.key(c) in KEYS
        assert all(x in (y, z) for x, y, z in zip(c.ops, a.ops, b.ops))


def test_neighbours_are_the_listed_archs_one_decision_away():
    """neighbours = every listed arch differing in exactly one decision (checked by brute force)."""
    for arch in [SPACE.from_index(i) for i in (0, 777, 13_000, 26_205)]:
        expected = set()
        for d, name in enumerate(SPACE.param_names):
            for v in SPACE.param_choices(name):
                ops = list(arch.ops)
                if v != ops[d]:
                    ops[d] = v
                    try:
                        expected.add(SPACE.make(ops))
                    except InvalidArchitectureError:
                        pass
        got = SPACE.neighbours(arch)
        assert len(got) == len(set(got)) and set(got) == expected and expected


def test_graph_is_input_four_ops_output():
    """link[k] -> node k+1; computing nodes nobody reads feed the output; labels are the ops."""
    g = SPACE.graph(SPACE.from_key(30200))  # link 0-0-1-2: nodes 3, 4 are read by nobody
    assert g.labels == ("input", "gat", "gin", "gat", "gat", "output")
    assert g.edges == ((0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 5))
    chain = SPACE.graph(SPACE.parse("link=0-1-2-3|gcn,gcn,gcn,gcn"))
    assert chain.edges == ((0, 1), (1, 2), (2, 3), (3, 4), (4, 5))
    assert set(SPACE.node_labels()) == {"input", "output", *NBG_OPS}


def test_listed_archs_have_distinct_graphs():
    """The benchmark keeps one arch per isomorphism class: the 26,206 graphs' WL hashes differ."""
    assert len({SPACE.graph(a).wl_hash() for a in SPACE}) == 26_206


def test_optuna_mapping_round_trips_and_refuses_unlisted():
    """to_params / from_params / suggest / distributions cover the 5 decisions."""
    arch = SPACE.from_key(30200)
    params = SPACE.to_params(arch)
    assert params == {"link": "0-0-1-2", "op0": "gat", "op1": "gin", "op2": "gat", "op3": "gat"}
    assert SPACE.from_params(params) == arch
    assert list(SPACE.distributions()["link"].choices) == list(NBG_LINK_NAMES)
    with pytest.raises(InvalidArchitectureError, match="not one of the 26,206"):
        SPACE.from_params(
            {"link": "0-0-1-2", "op0": "gat", "op1": "gcn", "op2": "skip", "op3": "fc"}
        )
    with pytest.raises(InvalidArchitectureError, match="needs one of"):
        SPACE.validate(Arch("nas_bench_graph", ("0-0-0-0", "gat", "gat", "gat", "conv")))


def test_suggest_asks_every_decision():
    """space.suggest on a fixed trial returns the arch the trial's params name."""
    study = optuna.create_study()
    arch = SPACE.from_key(30200)
    study.enqueue_trial(SPACE.to_params(arch))
    assert SPACE.suggest(study.ask()) == arch


@pytest.mark.parametrize("strategy", ["random", "rea", "ls", "tpe", "guided", "reinforce", "grid"])
def test_strategies_propose_listed_archs(strategy):
    """Every strategy, through ask_arch, yields listed archs (Optuna's own may be refused first)."""
    study = optuna.create_study(direction="maximize")
    seen = []
    for step in range(12):
        study.sampler = make_sampler(strategy, "nas_bench_graph", step)
        trial, arch = ask_arch(study, SPACE, max_infeasible=20, rng=np.random.default_rng(step))
        assert SPACE.key(arch) in KEYS
        seen.append(arch)
        study.tell(trial, objective_value(trial.params, "nas_bench_graph"))
    assert len(set(seen)) >= 10


def test_key_file_round_trips_and_refuses_damage(tmp_path: Path):
    """write_key_file is byte-reproducible; read_key_file refuses bad keys and unsorted lists."""
    a = write_key_file([30200, 0, 1111, 0], tmp_path / "a.gz")
    b = write_key_file([1111, 30200, 0], tmp_path / "b.gz")
    assert a.read_bytes() == b.read_bytes() and read_key_file(a) == (0, 1111, 30200)
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"1111\n99999\n"))
    with pytest.raises(ValueError, match=r"bad\.gz.*not a NAS-Bench-Graph key"):
        read_key_file(tmp_path / "bad.gz")
    (tmp_path / "unsorted.gz").write_bytes(gzip.compress(b"1111\n0\n"))
    with pytest.raises(ValueError, match="sorted and distinct"):
        read_key_file(tmp_path / "unsorted.gz")
    small = NASBenchGraphSpace(keys=[0, 1111, 30200])
    assert small.size == 3 and list(small) == [small.from_key(k) for k in (0, 1111, 30200)]


class TestEvolutionContractOnNASBenchGraph(BasicSamplerContract):
    """The sampler contract (valid proposals, determinism, journal resume) on this space."""

    n_trials = 30
    space_name = "nas_bench_graph"

    @staticmethod
    def make_sampler(seed):
        return make_sampler("rea", "nas_bench_graph", seed)
