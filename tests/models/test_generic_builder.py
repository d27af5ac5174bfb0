"""build_model: networks for chain, cell (edges / nodes) and macro spaces."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError  # noqa: E402
from predictor_nas.models import (  # noqa: E402
    build_model,
    build_nb201,
    nb201_num_params,
    takes_cell_sizes,
)
from predictor_nas.spaces import (  # noqa: E402
    NB201_OPS,
    CellEdgesSpace,
    CellNodesSpace,
    ChainSpace,
    MacroSpace,
    get_space,
)


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def conv_chain(**kw) -> ChainSpace:
    layers = {
        "conv": {"filters": [4, 8], "kernel_size": [3, 4, 5], "stride": [1, 2],
                 "padding": ["same", "valid"]},
        "pool": {"kernel_size": [3, 4, 5], "stride": [1, 2], "padding": ["same", "valid"]},
        "identity": {},
    }
    return ChainSpace("t_chain", layers, min_layers=1, max_layers=3, **kw)


def chain_arch(space: ChainSpace, *layers: str) -> str:
    items = [f"n_layers={len(layers)}"] if space.min_layers < space.max_layers else []
    for i, text in enumerate(layers):
        items += [f"layer_{i}_{kv}" for kv in text.split(",")]
    return ",".join(items)


@pytest.mark.parametrize(
    ("name", "width", "depth"),
    [("layer_chain", 0.25, None), ("mobilenet_macro", 0.5, None), ("nas_bench_macro", 0.5, None),
     ("nb101", 4, 1), ("tiny_cell", 4, 1)],
)
def test_every_shipped_declared_space_builds_and_runs(name, width, depth):
    """Sampled archs of each shipped kind give (B, num_classes) logits on 8x8 digits-like input."""
    space = get_space(name)
    built = 0
    for i in range(12):
        arch = space.sample(i)
        try:
            m = build_model(space, arch, in_channels=1, num_classes=10, seed=0, width=width,
                            depth=depth, image_size=8)
        except InvalidArchitectureError as exc:
            assert name == "layer_chain" and "Layer" in str(exc)  # only chains can collapse
            continue
        assert m(torch.randn(3, 1, 8, 8)).shape == (3, 10)
        built += 1
    assert built >= 4


def test_chain_param_count_conv_bn_linear():
    """conv 1->4 k3 + BN + linear 4->10 has 36 + 8 + 50 parameters."""
    s = conv_chain()
    a = chain_arch(s, "type=conv,filters=4,kernel_size=3,stride=1,padding=same")
    m = build_model(s, a, in_channels=1, num_classes=10, seed=0)
    assert n_params(m) == 1 * 4 * 9 + 2 * 4 + 4 * 10 + 10


def test_chain_width_multiplies_filters():
    """width=0.5 halves every conv's filters (8 -> 4 channels into the classifier)."""
    s = conv_chain()
    a = chain_arch(s, "type=conv,filters=8,kernel_size=3,stride=1,padding=same")
    m = build_model(s, a, in_channels=1, num_classes=10, seed=0, width=0.5)
    assert m.classifier.in_features == 4


@pytest.mark.parametrize(("k", "size", "want"), [(3, 7, 4), (4, 7, 4), (5, 8, 4), (4, 8, 4)])
def test_same_padding_with_stride_2_gives_ceil_of_half(k, size, want):
    """'same' at stride 2 outputs ceil(H / 2) pixels for odd and even kernels, conv and pool."""
    s = conv_chain()
    for t in ("type=conv,filters=4", "type=pool"):
        a = chain_arch(s, f"{t},kernel_size={k},stride=2,padding=same")
        m = build_model(s, a, in_channels=1, num_classes=10, seed=0, image_size=size)
        assert m.layers(torch.randn(2, 1, size, size)).shape[-2:] == (want, want)


def test_collapsing_valid_padding_is_refused_naming_the_layer():
    """Three valid 5x5 layers on 8x8 shrink it below one pixel: an error names layer 1."""
    s = conv_chain()
    a = chain_arch(
        s,
        "type=conv,filters=4,kernel_size=5,stride=1,padding=valid",
        "type=pool,kernel_size=5,stride=1,padding=valid",
        "type=conv,filters=4,kernel_size=3,stride=1,padding=same",
    )
    with pytest.raises(InvalidArchitectureError, match=r"Layer 1 \(pool, kernel_size=5.*4x4 input"):
        build_model(s, a, in_channels=1, num_classes=10, seed=0, image_size=8)
    m = build_model(s, a, in_channels=1, num_classes=10, seed=0, image_size=16)
    assert m(torch.randn(2, 1, 16, 16)).shape == (2, 10)


def test_skip_projection_when_shapes_differ_identity_when_equal():
    """A skip around a channel/size-changing layer adds a 1x1 conv + BN; around a same-shape
    layer it adds nothing; the valid-padding skip output keeps the layer's shape."""
    s = conv_chain(skip_connections=True)
    base = "type=conv,filters=4,kernel_size=3,stride=1,padding=same"
    same = chain_arch(s, base, base + ",skip=1")
    m_same = build_model(s, same, in_channels=1, num_classes=10, seed=0)
    no_skip = chain_arch(s, base, base + ",skip=0")
    m_plain = build_model(s, no_skip, in_channels=1, num_classes=10, seed=0)
    assert n_params(m_same) == n_params(m_plain)
    grow = chain_arch(s, base, "type=conv,filters=8,kernel_size=5,stride=2,padding=valid,skip=1")
    m_grow = build_model(s, grow, in_channels=1, num_classes=10, seed=0, image_size=9)
    plain = chain_arch(s, base, "type=conv,filters=8,kernel_size=5,stride=2,padding=valid,skip=0")
    m_plain = build_model(s, plain, in_channels=1, num_classes=10, seed=0)
    assert n_params(m_grow) - n_params(m_plain) == 4 * 8 + 2 * 8
    assert m_grow.layers(torch.randn(2, 1, 9, 9)).shape == (2, 8, 3, 3)


def test_unknown_layer_type_names_it_and_the_supported_ones():
    """A chain layer type without a builder raises InvalidParameterError naming both."""
    s = ChainSpace("t_dense", {"dense": {"units": [8]}}, min_layers=1, max_layers=1)
    with pytest.raises(InvalidParameterError, match=r"'dense'.*supported layer types: conv"):
        build_model(s, "layer_0_type=dense,layer_0_units=8", in_channels=1, num_classes=10)


def test_cell_edges_with_nb201_ops_has_nb201_param_counts():
    """A 4-node edge cell with NB201's ops at width 16, depth 5 matches nb201_num_params."""
    s = CellEdgesSpace("t_nb201_like", NB201_OPS, n_nodes=4)
    nb = get_space("nb201")
    for i in range(6):
        a = nb.sample(i)
        m = build_model(s, nb.format(a), in_channels=3, num_classes=10, seed=0)
        assert n_params(m) == nb201_num_params(a)


def test_nb201_space_builds_the_nb201_network_with_the_same_weights():
    """build_model on the NB201 space is build_nb201: same class, defaults 16 / 5, same weights."""
    nb = get_space("nb201")
    a = nb.sample(3)
    m = build_model(nb, a, in_channels=3, num_classes=10, seed=7)
    ref = build_nb201(a, num_classes=10, in_channels=3, seed=7)
    assert type(m) is type(ref) and n_params(m) == nb201_num_params(a)
    for (k, v), (k2, v2) in zip(m.state_dict().items(), ref.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(v, v2)
    small = build_model(nb, a, in_channels=1, num_classes=3, seed=7, width=4, depth=1)
    assert n_params(small) == n_params(build_nb201(a, width=4, depth=1, num_classes=3,
                                                   in_channels=1, seed=7))  # fmt: skip
    assert takes_cell_sizes(nb) and not takes_cell_sizes(conv_chain())


def test_cell_edges_runs_on_odd_image_sizes():
    """The ceil-mode reduction lets a 7x7 input through both reductions."""
    s = get_space("tiny_cell")
    a = "|conv_3x3~0|+|skip_connect~0|conv_3x3~1|+|none~0|skip_connect~1|conv_3x3~2|"
    m = build_model(s, a, in_channels=1, num_classes=5, seed=0, width=4, depth=1)
    assert m(torch.randn(2, 1, 7, 7)).shape == (2, 5)


def test_unknown_cell_op_is_refused_with_supported_list():
    """An edge op build_model does not know raises InvalidParameterError naming it."""
    s = CellEdgesSpace("t_weird", ["none", "weird_op"], n_nodes=3)
    a = "|weird_op~0|+|none~0|weird_op~1|"
    with pytest.raises(InvalidParameterError, match=r"'weird_op'.*supported: none"):
        build_model(s, a, in_channels=1, num_classes=10)


def test_cell_nodes_param_count():
    """input -> conv3x3 node -> output, width 4, depth 1: stem, 3 cells (1x1 projection + conv)
    and the head add up to 3526 parameters."""
    s = CellNodesSpace("t_nodes", ["conv3x3-bn-relu", "maxpool3x3"], max_nodes=3, max_edges=3)
    m = build_model(s, "conv3x3-bn-relu|101", in_channels=1, num_classes=10, width=4, depth=1)
    stem = 1 * 4 * 9 + 8
    cells = sum(ci * co + 2 * co + 9 * co * co + 2 * co for ci, co in ((4, 4), (4, 8), (8, 16)))
    assert n_params(m) == stem + cells + 16 * 10 + 10 == 3526
    assert m(torch.randn(2, 1, 8, 8)).shape == (2, 10)


def test_cell_nodes_uses_the_pruned_graph():
    """A dead node (no path to the output) adds no parameters."""
    s = CellNodesSpace("t_nodes2", ["conv3x3-bn-relu", "conv1x1-bn-relu"], max_nodes=4,
                       max_edges=5)
    live = build_model(s, "conv3x3-bn-relu,conv1x1-bn-relu|100010", in_channels=1,
                       num_classes=10, width=4, depth=1)
    dead = build_model(s, "conv3x3-bn-relu,conv1x1-bn-relu|110010", in_channels=1,
                       num_classes=10, width=4, depth=1)  # edge 0->2, node 2 never reaches out
    assert n_params(live) == n_params(dead)


def test_macro_param_count_identity_and_inverted_residual():
    """Stem 1->16 + BN + head is 346 parameters; one ir_3x3_t3 at 16 channels adds 2192."""
    s = get_space("nas_bench_macro")
    ident = ",".join(f"stage_0_layer_{i}=identity" for i in range(8))
    m0 = build_model(s, ident, in_channels=1, num_classes=10)
    assert n_params(m0) == 9 * 16 + 32 + 16 * 10 + 10 == 346
    one = ident.replace("stage_0_layer_3=identity", "stage_0_layer_3=ir_3x3_t3")
    m1 = build_model(s, one, in_channels=1, num_classes=10)
    assert n_params(m1) - n_params(m0) == 16 * 48 + 96 + 48 * 9 + 96 + 48 * 16 + 32


def test_macro_stage_channels_stride_and_width():
    """Declared channels x stage width x width multiplier set each stage; strides reduce."""
    s = get_space("mobilenet_macro")
    a = s.sample(0)
    m = build_model(s, a, in_channels=3, num_classes=10, width=2.0)
    last = s.layers(a)[-1]
    assert m.classifier.in_features == round(64 * last["width"] * 2.0)
    feats = m.blocks(m.stem(torch.randn(1, 3, 32, 32)))
    assert feats.shape[-1] == 8  # stride 1, 2, 2


def test_unknown_macro_block_is_refused():
    """A block name that is not identity or ir_<k>x<k>_t<e> raises InvalidParameterError."""
    s = MacroSpace("t_macro", ["mb_k3"], [{"depth": 1}])
    with pytest.raises(InvalidParameterError, match=r"'mb_k3'.*ir_<k>x<k>_t<e>"):
        build_model(s, "stage_0_layer_0=mb_k3", in_channels=1, num_classes=10)


@pytest.mark.parametrize("name", ["layer_chain", "mobilenet_macro", "nb101", "tiny_cell"])
def test_same_seed_same_weights_and_global_rng_untouched(name):
    """Equal seeds give identical state dicts, another seed differs, torch's RNG is unread."""
    space = get_space(name)
    arch = next(
        a for a in (space.sample(i) for i in range(50))
        if name != "layer_chain" or all(la.get("padding") == "same" for la in space.layers(a))
    )
    kw = {"in_channels": 1, "num_classes": 10, "image_size": 8}
    if name in ("nb101", "tiny_cell"):
        kw.update(width=4, depth=1)
    state = torch.get_rng_state()
    a = build_model(space, arch, seed=3, **kw).state_dict()
    b = build_model(space, arch, seed=3, **kw).state_dict()
    c = build_model(space, arch, seed=4, **kw).state_dict()
    assert torch.equal(state, torch.get_rng_state())
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point())


def test_bad_arguments_are_refused():
    """depth on a chain, a non-int cell width and a NB301 space raise InvalidParameterError."""
    s = get_space("layer_chain")
    a = s.sample(1)
    with pytest.raises(InvalidParameterError, match="'depth'"):
        build_model(s, a, in_channels=1, num_classes=10, depth=2)
    with pytest.raises(InvalidParameterError, match="'width'"):
        build_model(get_space("tiny_cell"), get_space("tiny_cell").sample(0), in_channels=1,
                    num_classes=10, width=2.5)
    with pytest.raises(InvalidParameterError, match="no builder"):
        build_model(get_space("nb301"), get_space("nb301").sample(0), in_channels=3,
                    num_classes=10)
