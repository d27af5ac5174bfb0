"""Zero-cost proxies on real NB201 networks, their registry and the proxy ensemble."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.models import build_nb201
from predictor_nas.proxies import (
    LOSS_GRADIENT_PROXIES,
    PROXIES,
    ProxyEnsemble,
    canonical_representative,
    compute_proxies,
    loss_gradient_proxies,
    noise_batch,
    rank_average,
    synflow,
    zen,
)
from predictor_nas.spaces import get_space

SPACE = get_space("nb201")
TINY = {"width": 4, "depth": 1, "input_size": 8, "batch_size": 8}
ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"


@pytest.fixture(scope="module")
def tiny_values() -> dict[str, float]:
    """All proxies of ARCH on the tiny network (width 4, depth 1, 8x8 noise, batch 8)."""
    return compute_proxies(ARCH, seed=0, **TINY)


# ------------------------------------------------------------------ every proxy, tiny net
@pytest.mark.parametrize("name", list(PROXIES))
def test_each_proxy_is_finite_and_seeded(name, tiny_values):
    """Each proxy gives a finite value on a tiny net, the same one again for the same seed."""
    value = tiny_values[name]
    assert math.isfinite(value)
    again = compute_proxies(ARCH, [name], seed=0, **TINY)
    assert again == {name: value}


def test_all_proxies_in_registry_order(tiny_values):
    """names=None computes every registered proxy, reported in registry order."""
    assert list(tiny_values) == list(PROXIES)
    assert set(PROXIES) == {
        "params",
        "flops",
        "synflow",
        "zen",
        "snip",
        "grasp",
        "fisher",
        "grad_norm",
        "jacov",
        "nwot",
    }
    assert all(p.higher_is_better for p in PROXIES.values())
    assert [n for n, p in PROXIES.items() if not p.uses_data] == [
        "params",
        "flops",
        "synflow",
        "zen",
    ]


def test_other_seed_changes_random_proxies(tiny_values):
    """Another seed changes weight/data-dependent proxies but not params or flops."""
    other = compute_proxies(ARCH, seed=1, **TINY)
    assert other["params"] == tiny_values["params"] and other["flops"] == tiny_values["flops"]
    for name in ("synflow", "zen", "snip", "grasp", "fisher", "grad_norm", "jacov", "nwot"):
        assert other[name] != tiny_values[name], name


def test_global_rng_untouched():
    """Computing proxies neither reads nor advances the global torch / numpy RNG."""
    t_state, n_state = torch.random.get_rng_state(), np.random.get_state()[1].copy()
    compute_proxies(ARCH, ["zen", "snip", "nwot"], seed=5, **TINY)
    assert torch.equal(t_state, torch.random.get_rng_state())
    assert np.array_equal(n_state, np.random.get_state()[1])


def test_grouped_gradient_proxies_equal_single_ones(tiny_values):
    """snip, grad_norm and fisher from one shared backward pass equal their separate runs."""
    model = build_nb201(ARCH, width=4, depth=1)
    x, y = noise_batch(8, 3, 8, 10, seed=3)
    together = loss_gradient_proxies(model, x, y, LOSS_GRADIENT_PROXIES)
    for name in LOSS_GRADIENT_PROXIES:
        alone = PROXIES[name].compute(model, x, y, 0)
        assert together[name] == pytest.approx(alone, rel=1e-6)


def test_proxies_leave_the_model_unchanged():
    """No proxy changes the weights, running statistics or mode of the model it is given."""
    model = build_nb201(ARCH, width=4, depth=1).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = noise_batch(8, 3, 8, 10, seed=0)
    for info in PROXIES.values():
        info.compute(model, x, y, 0)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not model.training
    assert all(p.grad is None for p in model.parameters())


# ------------------------------------------------------------------ exact values
def test_params_and_flops_by_hand():
    """params / flops equal hand counts (width 4, depth 1, 8x8 input, 10 classes)."""
    # skeleton: stem 108+8, reductions 928 + 3648, last BN 32, classifier 170 -> 4,894 params.
    # flops: stem 6912+512, reductions 15488 + 14912, last BN+ReLU 192, adaptive pool
    # 16 * (2+1)^2 = 144, linear 160 -> 38,320.
    got = compute_proxies(ALL_NONE, ["params", "flops"], **TINY)
    assert got == pytest.approx({"params": 4894e-6, "flops": 38320e-6}, abs=1e-12)
    # + nor_conv_3x3 on (0,1) in each stage: params 9C^2+2C, flops C*HW (ReLU) + 9C^2*HW + 2C*HW
    # + avg_pool_3x3 on (1,3): 9 * C * HW
    arch = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|avg_pool_3x3~1|none~2|"
    got = compute_proxies(arch, ["params", "flops"], **TINY)
    conv_params = sum(9 * c * c + 2 * c for c in (4, 8, 16))
    conv_flops = sum(c * hw + 9 * c * c * hw + 2 * c * hw for c, hw in ((4, 64), (8, 16), (16, 4)))
    pool_flops = sum(9 * c * hw for c, hw in ((4, 64), (8, 16), (16, 4)))
    assert conv_params == 3080 and conv_flops == 28992 and pool_flops == 4032
    assert got["params"] == pytest.approx((4894 + conv_params) / 1e6, abs=1e-12)
    assert got["flops"] == pytest.approx((38320 + conv_flops + pool_flops) / 1e6, abs=1e-12)


def test_default_skeleton_flops_match_nb201_minimum():
    """At NB201 size the parameter-free cell gives the table's smallest flops / params."""
    got = compute_proxies(ALL_SKIP, ["params", "flops"])
    assert got == pytest.approx({"params": 0.073306, "flops": 7.943872}, abs=1e-9)


def test_synflow_and_zen_are_data_independent():
    """synflow and zen read only the input's shape: other data gives the same value."""
    model = build_nb201(ARCH, width=4, depth=1, seed=2)
    a, _ = noise_batch(8, 3, 8, 10, seed=0)
    b = torch.full((8, 3, 8, 8), 7.0)
    assert synflow(model, a) == synflow(model, b)
    assert zen(model, a, seed=1) == zen(model, b, seed=1)
    y = torch.zeros(8, dtype=torch.long)
    one = compute_proxies(ARCH, ["synflow", "snip"], data=(a, y), width=4, depth=1)
    two = compute_proxies(ARCH, ["synflow", "snip"], data=(b, y), width=4, depth=1)
    assert one["synflow"] == two["synflow"] and one["snip"] != two["snip"]


def test_synflow_by_hand_on_a_linear_model():
    """synflow of Linear(3, 2) with weights w and bias b is log(sum |w| * 1) (ones input)."""
    lin = torch.nn.Linear(3, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, -2.0, 3.0], [-0.5, 0.5, 1.0]]))
        lin.bias.copy_(torch.tensor([4.0, -1.0]))
    model = torch.nn.Sequential(torch.nn.Flatten(), lin)
    # dR/dw_ij = x_j = 1, so the sum is sum |w_ij| = 6 + 2 = 8
    assert synflow(model, torch.zeros(1, 3, 1, 1)) == pytest.approx(math.log(8.0))


def test_all_none_cell_is_degenerate():
    """A cell with only 'none' disconnects the output: gradient proxies vanish, others fail."""
    got = compute_proxies(ALL_NONE, **TINY)
    assert got["synflow"] == 0.0  # sum is 0 -> 0.0 (NASLib convention)
    assert got["snip"] == got["grad_norm"] == got["grasp"] == 0.0
    assert math.isnan(got["jacov"])
    assert got["zen"] == -math.inf and got["nwot"] == -math.inf
    assert math.isfinite(got["fisher"]) and got["fisher"] >= 0  # classifier bias term remains
    assert got["params"] == pytest.approx(4894e-6)


# ------------------------------------------------------------------ NAS-Bench-Suite-Zero values
@pytest.mark.shared_data
@pytest.mark.slow
def test_agreement_with_table(rich_table_path):
    """params / flops equal NAS-Bench-Suite-Zero's; synflow agrees to < 0.5 in log (< 1 %)."""
    from predictor_nas.tables import open_table

    table = open_table(rich_table_path)
    archs = [SPACE.from_index(i) for i in (0, 1, 6111, 9930, 10676)]
    rows = table.rows(archs)

    def col(metric, dataset):
        return table.query_many(rows, metric, dataset=dataset, fidelity=0)

    params, flops_, syn = (col(m, "cifar10") for m in ("zc_params", "zc_flops", "zc_synflow"))
    for i, arch in enumerate(archs):
        got = compute_proxies(arch, ["params", "flops", "synflow"], seed=i)
        assert got["params"] == pytest.approx(params[i], abs=1e-6)
        assert got["flops"] == pytest.approx(flops_[i], abs=1e-6)
        assert abs(got["synflow"] - syn[i]) < 0.5
    # ImageNet16-120: 16x16 inputs, 120 classes
    in16 = compute_proxies(archs[1], ["params", "flops"], num_classes=120, input_size=16)
    assert in16["params"] == pytest.approx(col("zc_params", "ImageNet16-120")[1], abs=1e-6)
    assert in16["flops"] == pytest.approx(col("zc_flops", "ImageNet16-120")[1], abs=1e-6)


# ------------------------------------------------------------------ the ensemble
ENSEMBLE_ARCHS = [
    ARCH,
    ALL_NONE,
    "|nor_conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|nor_conv_1x1~2|",
    "|avg_pool_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|",
    ALL_SKIP,
]


@pytest.fixture(scope="module")
def ensemble() -> ProxyEnsemble:
    """A tiny-network ensemble of synflow, nwot and snip, shared by the ensemble tests."""
    return ProxyEnsemble(("synflow", "nwot", "snip"), seed=0, **TINY)


def test_ensemble_scores_are_rank_averages(ensemble):
    """scores = mean normalised rank over proxies; the disconnected cell ranks last."""
    scores = ensemble.scores(ENSEMBLE_ARCHS)
    values = ensemble.values(ENSEMBLE_ARCHS)
    assert scores.shape == (5,) and values.shape == (5, 3)
    assert np.all((scores >= 0) & (scores <= 1))
    assert np.argmin(scores) == 1  # ALL_NONE
    from scipy.stats import rankdata

    v = np.where(np.isfinite(values), values, -np.inf)
    expected = ((rankdata(v, axis=0) - 1) / 4).mean(axis=1)
    np.testing.assert_allclose(scores, expected)
    np.testing.assert_array_equal(ensemble(ENSEMBLE_ARCHS), scores)


def test_rank_average_by_hand():
    """rank_average: signed normalised ranks averaged over columns; NaN ranks lowest."""
    values = np.array([[1.0, np.nan], [2.0, 5.0], [3.0, 4.0], [3.0, 6.0]])
    got = rank_average(values, np.array([1.0, -1.0]))
    # col 0 ranks (ties averaged): 0, 1/3, 5/6, 5/6; col 1 (-v, NaN lowest): 0, 2/3, 1, 1/3
    np.testing.assert_allclose(got, [0.0, 0.5, 11 / 12, 7 / 12])
    assert rank_average(np.array([[3.0, 1.0]]), np.ones(2)).tolist() == [0.5]


def test_ensemble_ranks_consistently(ensemble):
    """Permuting the archs permutes the scores; isomorphic cells get identical values."""
    perm = [3, 0, 4, 1, 2]
    np.testing.assert_allclose(
        ensemble.scores([ENSEMBLE_ARCHS[i] for i in perm]), ensemble.scores(ENSEMBLE_ARCHS)[perm]
    )
    # dead op on an edge out of the unreachable node 1: same function as ARCH's pruned form
    a = SPACE.parse("|none~0|+|skip_connect~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|")
    b = SPACE.parse(
        "|none~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|skip_connect~2|"
    )
    assert SPACE.canonical_key(a) == SPACE.canonical_key(b)
    assert canonical_representative(a) == canonical_representative(b)
    va, vb = ensemble.values([a, b])
    np.testing.assert_array_equal(va, vb)
    fresh = ProxyEnsemble(("synflow", "nwot", "snip"), seed=0, **TINY)
    np.testing.assert_array_equal(fresh.values([b, a]), ensemble.values([b, a]))


def test_ensemble_signs_flip_the_order():
    """With signs={'synflow': -1} a single-proxy ensemble reverses its ranking."""
    up = ProxyEnsemble(("synflow",), **TINY)
    down = ProxyEnsemble(("synflow",), signs={"synflow": -1}, **TINY)
    archs = [ARCH, ENSEMBLE_ARCHS[2], ENSEMBLE_ARCHS[3]]
    np.testing.assert_allclose(up.scores(archs) + down.scores(archs), 1.0)
    assert len(set(up.scores(archs))) == 3


def test_ensemble_as_feature_source(ensemble):
    """transform gives (n, k+1) float32 like TableFeatures and plugs into an Encoder."""
    from predictor_nas.encodings import Encoder

    x = ensemble.transform(ENSEMBLE_ARCHS)
    assert ensemble.names == ["synflow", "nwot", "snip", "missing"]
    assert x.shape == (5, 4) and x.dtype == np.float32
    assert x[1, 3] == 1.0 and np.all(x[[0, 2, 3, 4], 3] == 0.0)  # ALL_NONE has -inf nwot
    raw = ensemble.values([ARCH])[0]
    np.testing.assert_allclose(x[0, :3], np.sign(raw) * np.log1p(np.abs(raw)), rtol=1e-6)
    enc = Encoder(SPACE, "onehot", ensemble)
    feats = enc.transform([SPACE.parse(a) for a in ENSEMBLE_ARCHS])
    assert feats.shape == (5, 30 + 4) and enc.names[-4:] == ensemble.names


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"names": ["snip", "bogus"]}, "The 'names' parameter of compute_proxies must be one of"),
        ({"names": ["snip", "snip"]}, "must be a sequence of distinct proxy names"),
        ({"names": "snip"}, "must be a non-empty sequence of proxy names"),
        ({"seed": -1}, "The 'seed' parameter of compute_proxies must be an int >= 0. Got -1"),
        ({"input_size": 10}, "'input_size' parameter of compute_proxies must be an int >= 4 and"),
        ({"batch_size": 1}, "'batch_size' parameter of compute_proxies must be an int >= 2"),
        ({"data": (torch.zeros(4, 3, 8, 8),)}, "The 'data' parameter of compute_proxies"),
        (
            {"data": (torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long))},
            "a float tensor \\(B, 3, H, W\\)",
        ),
        (
            {"data": (torch.zeros(4, 3, 8, 8), torch.full((4,), 10))},
            "labels in \\[0, 9\\]",
        ),
        ({"width": 0}, "The 'width' parameter of build_model .* must be an int >= 1"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    """Bad names, seeds, sizes and data raise InvalidParameterError in the standard form."""
    args = {"width": 4, "depth": 1, "input_size": 8, "batch_size": 4, **kwargs}
    names = args.pop("names", ["params"])
    with pytest.raises(InvalidParameterError, match=message):
        compute_proxies(ARCH, names, **args)


def test_bad_arch_and_ensemble_settings_raise():
    """A non-NB201 arch and invalid ensemble signs / names are refused."""
    with pytest.raises(InvalidArchitectureError):
        compute_proxies("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", ["params"])
    with pytest.raises(InvalidParameterError, match="'signs' parameter of ProxyEnsemble"):
        ProxyEnsemble(("snip",), signs={"snip": 2}).scores([ARCH])
    with pytest.raises(InvalidParameterError, match="'signs' parameter of ProxyEnsemble"):
        ProxyEnsemble(("snip",), signs={"nwot": 1}).names
    with pytest.raises(InvalidParameterError, match="'names' parameter of ProxyEnsemble"):
        ProxyEnsemble(("snip", "bogus")).names


# ------------------------------------------------------------------ declared spaces
@pytest.mark.parametrize("name", ["layer_chain", "nb101", "tiny_cell", "mobilenet_macro"])
def test_proxies_score_networks_of_declared_spaces(name):
    """compute_proxies builds any space's network (build_model): finite params/flops, seeded."""
    space = get_space(name)
    arch = space.sample(0)
    small = {"width": 4, "depth": 1, "input_size": 16, "batch_size": 4}
    first = compute_proxies(arch, ["params", "flops", "synflow", "nwot"], seed=0, **small)
    again = compute_proxies(space.format(arch), ["params", "flops", "synflow", "nwot"],
                            space=name, seed=0, **small)  # fmt: skip
    assert first == again
    assert first["params"] > 0 and first["flops"] > 0 and math.isfinite(first["synflow"])


def test_ensemble_on_a_declared_space_scores_its_architectures():
    """ProxyEnsemble(space=...) ranks a declared space's archs; equal keys share their values."""
    space = get_space("tiny_cell")
    archs = [space.sample(i) for i in range(6)]
    ens = ProxyEnsemble(["params", "synflow"], space="tiny_cell", seed=0, **TINY)
    values = ens.values(archs)
    assert values.shape == (6, 2) and np.isfinite(values).all()
    scores = ens.scores(archs)
    assert scores.shape == (6,) and ((scores >= 0) & (scores <= 1)).all()
    assert np.array_equal(ens.values([archs[0], archs[0]])[1], values[0])
    with pytest.raises(InvalidArchitectureError):
        ProxyEnsemble(["params"], space="tiny_cell", **TINY).values([SPACE.sample(0)])
