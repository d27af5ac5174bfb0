"""Supernets of declared cell spaces (CellEdgesSpace): same networks as build_model's."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from predictor_nas.exceptions import InvalidParameterError  # noqa: E402
from predictor_nas.models import CellEdgesNetwork, build_model  # noqa: E402
from predictor_nas.oneshot import (  # noqa: E402
    CellEdgesSupernet,
    build_supernet,
    derive_argmax,
    inherited_accuracy,
    run_oneshot_search,
    train_supernet,
)
from predictor_nas.spaces import CellEdgesSpace  # noqa: E402
from predictor_nas.training import from_arrays, load_digits_data  # noqa: E402

OPS = ["none", "skip_connect", "conv_3x3", "sep_conv_3x3", "max_pool_3x3", "dil_conv_3x3"]
SPACE = CellEdgesSpace("t_oneshot_cells", OPS, n_nodes=5, edges=[[0, 1], [0, 2], [1, 2],
                                                                  [1, 3], [2, 4], [3, 4]])


@pytest.fixture(scope="module")
def tiny():
    """A 240 / 120 / 120 image subset of digits."""
    d = load_digits_data(0)
    return from_arrays(d.x_train[:240], d.y_train[:240], d.x_val[:120], d.y_val[:120],
                       d.x_test[:120], d.y_test[:120], num_classes=10, name="digits-tiny")


def test_declared_subnet_equals_build_model_with_copied_weights(tiny):
    """After one SPOS epoch, a path of the declared space's supernet, its one-hot DARTS mixture
    and build_model's network loaded with the shared weights give identical logits."""
    net = build_supernet(SPACE, width=4, depth=1, in_channels=1, seed=0)
    assert isinstance(net, CellEdgesSupernet) and tuple(net.alphas.shape) == (6, 6)
    train_supernet(net, tiny, mode="spos", epochs=1, batch_size=32, seed=0, num_threads=1)
    net.eval()
    x = torch.from_numpy(tiny.x_val[:16]).float()
    rng = np.random.default_rng(0)
    for _ in range(4):
        arch = SPACE.sample(rng)
        alone = build_model(SPACE, arch, in_channels=1, num_classes=10, width=4, depth=1,
                            seed=9)
        assert isinstance(alone, CellEdgesNetwork)
        alone.load_state_dict(net.subnet_state_dict(arch), strict=True)
        alone.eval()
        path = net.path_of(arch)
        one_hot = torch.zeros(6, 6)
        one_hot[torch.arange(6), torch.tensor(path)] = 1.0
        with torch.no_grad():
            ref = alone(x)
            assert torch.equal(net(x, path=path), ref)
            assert torch.equal(net(x, weights=one_hot), ref)
            assert torch.equal(net.extract(arch).eval()(x), ref)


def test_declared_space_darts_and_spos_search(tiny):
    """DARTS on a declared space derives a valid arch of it; SPOS picks the best inherited
    candidate and trains it with build_model's network."""
    net = build_supernet(SPACE, width=4, depth=1, in_channels=1, seed=0)
    train_supernet(net, tiny, mode="darts", epochs=1, batch_size=32, seed=0, num_threads=1)
    arch = derive_argmax(net)
    assert SPACE.validate(arch) == arch
    assert 0 <= inherited_accuracy(net, arch, tiny, batch_size=32) <= 100
    r = run_oneshot_search("spos", space=SPACE, data=tiny, supernet_epochs=1, final_epochs=1,
                           width=4, batch_size=32, n_candidates=8, num_threads=1)
    assert SPACE.parse(r.arch) and r.test_acc is not None
    assert isinstance(r.model, CellEdgesNetwork)
    assert r.inherited_acc == max(c["inherited_acc"] for c in r.candidates)


def test_space_without_edge_ops_is_refused():
    """A chain or NB301 space has no supernet: a clear InvalidParameterError."""
    with pytest.raises(InvalidParameterError, match=r"'space' parameter of build_supernet must"
                       r" be 'nb201' or a cell space with ops on edges"):
        build_supernet("nb301")


def test_cli_one_shot_search_of_a_shipped_cell_space(capsys):
    """`search --evaluator train --strategy gdas --space tiny_cell` searches the declared space
    (JSON: an arch of tiny_cell and its test accuracy); a space without edge ops exits 2."""
    import json

    from predictor_nas.cli import main
    from predictor_nas.spaces import get_space

    assert main(["search", "--evaluator", "train", "--strategy", "gdas", "--space", "tiny_cell",
                 "--dataset", "digits", "--epochs", "1", "--width", "4", "--threads", "1",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert get_space("tiny_cell").parse(d["arch"]) and d["test_acc"] is not None
    assert main(["search", "--evaluator", "train", "--strategy", "spos", "--space", "nb301",
                 "--dataset", "digits"]) == 2
    assert "cell space with ops on edges" in capsys.readouterr().err
