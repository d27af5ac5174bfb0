"""The NAS-Bench-201 model builder: parameter counts against the benchmark, forward pass, cells."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.models import NB201Cell, build_nb201, nb201_num_params
from predictor_nas.spaces import get_space

SPACE = get_space("nb201")
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}


def _numel(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _all_archs():
    return [SPACE.from_index(i) for i in range(SPACE.size)]


# ------------------------------------------------------------------ parameter counts vs. NB201
@pytest.mark.parametrize("dataset", list(NUM_CLASSES))
def test_param_count_matches_embedded_table_for_all_archs(nb201_table, dataset):
    """For all 15,625 cells the count equals every training trial's NB201 model size (except the
    204 archs whose trials disagree, where it equals one of them)."""
    archs = _all_archs()
    mine = np.array([nb201_num_params(a, num_classes=NUM_CLASSES[dataset]) for a in archs]) / 1e6
    table = nb201_table.values("params", dataset=dataset)[nb201_table.rows(archs)]  # (n, seeds)
    diff = np.abs(table - mine[:, None])
    consistent = np.nanmax(table, axis=1) == np.nanmin(table, axis=1)
    assert consistent.sum() == SPACE.size - 204
    assert np.nanmax(diff[consistent]) < 5e-7
    assert (diff[~consistent] < 5e-7).any(axis=1).all()


@pytest.mark.shared_data
@pytest.mark.slow
def test_param_count_matches_rich_table(rich_table_path):
    """The rich table's params (and NASLib's zc_params) agree with the count for every arch."""
    from predictor_nas.tables import open_table

    table = open_table(rich_table_path)
    archs = _all_archs()
    rows = table.rows(archs)
    for dataset, k in NUM_CLASSES.items():
        mine = np.array([nb201_num_params(a, num_classes=k) for a in archs]) / 1e6
        got = table.query_many(rows, "params", dataset=dataset, fidelity=200)
        known = ~np.isnan(got)
        assert known.sum() == SPACE.size - 204
        np.testing.assert_allclose(got[known], mine[known], rtol=0, atol=5e-7)
    zc = table.query_many(rows, "zc_params", dataset="cifar10", fidelity=0)
    mine = np.array([nb201_num_params(a) for a in archs]) / 1e6
    known = ~np.isnan(zc)
    assert known.sum() == 9445
    np.testing.assert_allclose(zc[known], mine[known], rtol=0, atol=5e-7)


def test_fast_count_equals_real_networks():
    """nb201_num_params equals sum(p.numel()) of built networks over a seeded arch sample."""
    rng = np.random.default_rng(0)
    idx = rng.choice(SPACE.size, size=12, replace=False)
    configs = [(16, 5, 10, 3), (8, 2, 100, 3), (4, 1, 120, 1), (5, 3, 7, 2)]
    for n, i in enumerate(idx):
        width, depth, k, cin = configs[n % len(configs)]
        arch = SPACE.from_index(int(i))
        model = build_nb201(arch, width=width, depth=depth, num_classes=k, in_channels=cin)
        assert _numel(model) == nb201_num_params(
            arch, width=width, depth=depth, num_classes=k, in_channels=cin
        )


def test_param_count_by_hand():
    """Hand count: the parameter-free skeleton has 73,306 params; each 3x3 conv edge adds 243,040."""
    assert nb201_num_params(ALL_NONE) == 73_306
    conv3 = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    conv1 = "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    # 5 cells x (9 C^2 + 2 C) summed over C = 16, 32, 64
    assert nb201_num_params(conv3) - 73_306 == 243_040
    assert nb201_num_params(conv1) - 73_306 == 28_000
    assert nb201_num_params(BEST) == 73_306 + 4 * 243_040 + 28_000


# ------------------------------------------------------------------ forward pass and structure
def test_forward_shapes():
    """Logits are (B, num_classes); the pre-pooling features are (B, 4C, H/4, W/4)."""
    model = build_nb201(BEST, width=8, depth=1, num_classes=100)
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert model(x).shape == (3, 100)
    assert model.forward_features(x).shape == (3, 32, 8, 8)
    assert model.forward_features(torch.randn(2, 3, 12, 20)).shape == (2, 32, 3, 5)
    with pytest.raises(
        InvalidParameterError, match=r"H and W multiples of 4\. Got \(2, 3, 15, 16\)"
    ):
        model(torch.randn(2, 3, 15, 16))
    with pytest.raises(InvalidParameterError, match=r"a \(B, 3, H, W\) tensor"):
        model(torch.randn(3, 32, 32))
    gray = build_nb201(BEST, width=4, depth=1, num_classes=5, in_channels=1)
    assert gray(torch.zeros(1, 1, 8, 8)).shape == (1, 5)


def test_width_and_depth_configure_the_skeleton():
    """depth N gives 3N cells + 2 reduction blocks; stage widths are C, 2C, 4C."""
    model = build_nb201(BEST, width=6, depth=2, num_classes=10)
    cells = [m for m in model.cells if isinstance(m, NB201Cell)]
    assert len(model.cells) == 3 * 2 + 2 and len(cells) == 6
    widths = [m.edges[0][1].in_channels for m in cells]
    assert widths == [6, 6, 12, 12, 24, 24]
    assert model.classifier.in_features == 24 and model.stem[0].out_channels == 6
    assert "width=6" in repr(model) and BEST in repr(model)


def test_official_op_modules():
    """Ops: conv = ReLU-Conv(no bias)-BN(affine, running stats); pool excludes padding."""
    cell = build_nb201(
        "|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|none~1|nor_conv_3x3~2|",
        width=4,
        depth=1,
    ).cells[0]
    relu, conv, bn = cell.edges[0]
    assert isinstance(relu, torch.nn.ReLU) and conv.bias is None and conv.kernel_size == (1, 1)
    assert bn.affine and bn.track_running_stats
    pool = cell.edges[1]
    assert isinstance(pool, torch.nn.AvgPool2d) and not pool.count_include_pad
    assert pool.stride == 1 and pool.padding == 1
    assert isinstance(cell.edges[2], torch.nn.Identity)
    assert cell.edges[5][1].kernel_size == (3, 3)
    block = build_nb201(ALL_NONE, width=4, depth=1).cells[1]
    assert block.conv_a[1].stride == (2, 2) and block.conv_a[1].out_channels == 8
    assert isinstance(block.downsample[0], torch.nn.AvgPool2d)
    assert block.downsample[1].kernel_size == (1, 1) and block.downsample[1].bias is None


def test_avg_pool_excludes_padding_in_values():
    """A constant map stays constant through avg_pool_3x3 (border averages ignore padding)."""
    cell = NB201Cell(("avg_pool_3x3", "none", "none", "none", "skip_connect", "none"), 2)
    x = torch.full((1, 2, 5, 5), 3.0)
    assert torch.equal(cell(x), x)


# ------------------------------------------------------------------ dead edges (none)
def test_dead_edges_compute_zero_but_keep_parameters():
    """Ops fed by an all-none node output zeros; their params exist, conv weights get no gradient."""
    ops = ("none", "skip_connect", "nor_conv_3x3", "none", "nor_conv_1x1", "skip_connect")
    cell = NB201Cell(ops, 3)
    x = torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(1))
    # node1 = 0; node2 = x + conv3(0) = x; node3 = conv1(node1) + node2 = x (BN shift is 0)
    cell.train()
    out = cell(x)
    torch.testing.assert_close(out, x)
    out.square().sum().backward()
    dead_conv = cell.edges[2][1].weight
    assert dead_conv.grad is not None and torch.count_nonzero(dead_conv.grad) == 0
    assert torch.count_nonzero(cell.edges[4][2].bias.grad) > 0  # the BN shift still matters
    assert sum(p.numel() for p in cell.parameters()) == (9 * 9 + 6) + (9 + 6)


def test_all_none_network_ignores_its_input():
    """With an all-none cell the logits do not depend on the input (output disconnected)."""
    model = build_nb201(ALL_NONE, width=4, depth=1).eval()
    g = torch.Generator().manual_seed(0)
    a = model(torch.randn(2, 3, 8, 8, generator=g))
    b = model(torch.randn(2, 3, 8, 8, generator=g) * 10)
    torch.testing.assert_close(a, b)


# ------------------------------------------------------------------ seeding and errors
def test_seeded_and_global_rng_untouched():
    """Same seed -> same weights; another seed differs; the global torch RNG is not advanced."""
    state = torch.random.get_rng_state()
    m1 = build_nb201(BEST, width=4, depth=1, seed=3)
    m2 = build_nb201(BEST, width=4, depth=1, seed=torch.Generator().manual_seed(3))
    m3 = build_nb201(BEST, width=4, depth=1, seed=4)
    assert torch.equal(state, torch.random.get_rng_state())
    p1, p2, p3 = (torch.cat([p.flatten() for p in m.parameters()]) for m in (m1, m2, m3))
    assert torch.equal(p1, p2) and not torch.equal(p1, p3)
    assert all(p.device.type == "cpu" for p in m1.parameters())
    bn = m1.stem[1]
    assert torch.equal(bn.running_var, torch.ones(4)) and int(bn.num_batches_tracked) == 0
    bound = 1 / np.sqrt(4 * 4)  # classifier: fan_in = 4C = 16, bias ~ U(-0.25, 0.25)
    assert 0.5 * bound < m1.classifier.bias.abs().max() <= bound
    assert 0.5 * bound < m1.classifier.weight.abs().max() <= bound


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 0}, "The 'width' parameter of build_nb201 must be an int >= 1. Got 0 instead."),
        ({"depth": 1.5}, "The 'depth' parameter of build_nb201 must be an int >= 1. Got 1.5"),
        ({"num_classes": True}, "'num_classes' parameter of build_nb201 must be an int >= 1"),
        ({"in_channels": -1}, "'in_channels' parameter of build_nb201 must be an int >= 1"),
        ({"seed": -2}, "The 'seed' parameter of build_nb201 must be an int >= 0. Got -2"),
        ({"seed": None}, "The 'seed' parameter of build_nb201 must be an int >= 0. Got None"),
    ],
)
def test_bad_sizes_raise(kwargs, message):
    """Invalid sizes and seeds raise InvalidParameterError in the standard form."""
    with pytest.raises(InvalidParameterError, match=message.replace(".", r"\.")):
        build_nb201(BEST, **kwargs)


def test_bad_arch_raises():
    """A malformed string or an op outside NB201 raises InvalidArchitectureError."""
    with pytest.raises(InvalidArchitectureError):
        build_nb201("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(InvalidArchitectureError):
        nb201_num_params("not an arch")
    with pytest.raises(InvalidParameterError, match="'width' parameter of nb201_num_params"):
        nb201_num_params(BEST, width=0)


def test_import_predictor_nas_stays_light():
    """Importing predictor_nas and its spaces does not import torch (only .models does)."""
    code = "import sys, predictor_nas, predictor_nas.spaces;print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
