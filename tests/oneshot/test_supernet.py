"""The NB201 supernet: sub-networks equal stand-alone builds, and DARTS / GDAS / SPOS training."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from scipy import stats  # noqa: E402

from predictor_nas.exceptions import InvalidParameterError  # noqa: E402
from predictor_nas.models import build_nb201, nb201_num_params  # noqa: E402
from predictor_nas.oneshot import (  # noqa: E402
    build_supernet,
    derive_argmax,
    gdas_tau,
    inherited_accuracy,
    train_supernet,
)
from predictor_nas.oneshot._train import (  # noqa: E402
    _darts_unrolled_step,
    _gumbel_hard,
    _uniform_path,
)
from predictor_nas.spaces import NB201_OPS, get_space  # noqa: E402
from predictor_nas.training import from_arrays, load_digits_data, train  # noqa: E402

SPACE = get_space("nb201")
ARCHS = [
    "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|",
    "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|",  # nodes 1, 2 get no input
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    "avg_pool_3x3~2|",
]


@pytest.fixture(scope="module")
def tiny():
    """A 240 / 120 / 120 image subset of digits (8x8, one channel)."""
    d = load_digits_data(0)
    return from_arrays(d.x_train[:240], d.y_train[:240], d.x_val[:120], d.y_val[:120],
                       d.x_test[:120], d.y_test[:120], num_classes=10, name="digits-tiny")


def _net(seed: int = 0, width: int = 4):
    return build_supernet(width=width, depth=1, in_channels=1, num_classes=10, seed=seed)


@pytest.fixture(scope="module")
def trained(tiny):
    """A width-4 supernet after one SPOS epoch (weights and BN statistics away from init)."""
    net = _net()
    train_supernet(net, tiny, mode="spos", epochs=1, batch_size=32, seed=0, num_threads=1)
    return net.cpu()


def _one_hot(path):
    w = torch.zeros(6, len(NB201_OPS))
    w[torch.arange(6), torch.tensor(path)] = 1.0
    return w


@pytest.mark.parametrize("arch", ARCHS)
def test_subnet_equals_standalone_model_with_copied_weights(trained, tiny, arch):
    """The supernet's single path, its one-hot DARTS mixture and a stand-alone build_nb201 network
    loaded with the shared weights give identical logits (eval and train mode)."""
    path = trained.path_of(arch)
    alone = build_nb201(arch, width=4, depth=1, num_classes=10, in_channels=1, seed=123)
    alone.load_state_dict(trained.subnet_state_dict(arch), strict=True)  # same key set
    assert sum(p.numel() for p in alone.parameters()) == nb201_num_params(
        arch, width=4, depth=1, num_classes=10, in_channels=1)
    x = torch.from_numpy(tiny.x_val[:16]).float()
    trained.eval()
    alone.eval()
    with torch.no_grad():
        ref = alone(x)
        assert torch.equal(trained(x, path=path), ref)
        assert torch.equal(trained(x, weights=_one_hot(path)), ref)
        assert torch.equal(trained.extract(arch).eval()(x), ref)
    # train mode (batch statistics): compare on copies so running stats do not interfere
    sup_a, sup_b = _net(), _net()
    sup_a.load_state_dict(trained.state_dict())
    sup_b.load_state_dict(trained.state_dict())
    alone.train()
    with torch.no_grad():
        ref = alone(x)
        assert torch.equal(sup_a(x, path=path), ref)
        assert torch.equal(sup_b(x, weights=_one_hot(path)), ref)


def test_subnet_gradients_equal_standalone_gradients(trained, tiny):
    """A training loss through the single path gives the stand-alone network's weight gradients."""
    arch = ARCHS[2]
    sup = _net()
    sup.load_state_dict(trained.state_dict())
    alone = sup.extract(arch)
    x = torch.from_numpy(tiny.x_train[:16]).float()
    y = torch.from_numpy(tiny.y_train[:16])
    torch.nn.functional.cross_entropy(sup(x, path=sup.path_of(arch)), y).backward()
    torch.nn.functional.cross_entropy(alone(x), y).backward()
    grads = {k: p.grad for k, p in sup.named_parameters() if p.grad is not None}
    for name, p in alone.named_parameters():
        parts = name.split(".")
        if parts[0] == "cells" and parts[2] == "edges":
            op = SPACE.coerce(arch).ops[int(parts[3])]
            parts = [*parts[:4], "ops", str(NB201_OPS.index(op)), *parts[4:]]
        torch.testing.assert_close(grads[".".join(parts)], p.grad, rtol=0, atol=1e-6)


def test_build_supernet_is_seeded_and_checks_arguments():
    """Same seed -> same weights and alphas; another seed differs; bad settings raise."""
    a, b, c = _net(1), _net(1), _net(2)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k
    assert not torch.equal(a.alphas, c.alphas)
    assert a.alphas.abs().max() < 0.01  # DARTS's 1e-3 * N(0, 1)
    with pytest.raises(InvalidParameterError, match="'space' parameter of build_supernet"):
        build_supernet("nb301")
    with pytest.raises(InvalidParameterError, match="'width' parameter of build_supernet"):
        build_supernet(width=0)


@pytest.mark.parametrize("mode", ["darts", "gdas", "spos"])
def test_supernet_training_is_seeded(tiny, mode):
    """Two runs with the same seed give bit-identical weights, alphas and losses on CPU; another
    seed gives other weights."""
    runs = []
    for seed in (5, 5, 6):
        net = _net(seed)
        r = train_supernet(net, tiny, mode=mode, epochs=1, batch_size=32, seed=seed,
                           num_threads=1)
        runs.append((r, net.state_dict()))
    (r1, s1), (r2, s2), (_, s3) = runs
    assert r1.train_loss == r2.train_loss and r1.val_acc == r2.val_acc
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    assert not torch.equal(s1["stem.0.weight"], s3["stem.0.weight"])
    assert np.isfinite(r1.train_loss).all()


def test_darts_moves_alphas_and_derives_a_valid_arch(tiny):
    """After DARTS training the alphas have changed, a history row is recorded per epoch and
    derive_argmax returns the row-wise argmax as a valid NB201 architecture."""
    net = _net(0)
    before = net.alphas.detach().clone()
    r = train_supernet(net, tiny, mode="darts", epochs=2, batch_size=32, seed=0, num_threads=1)
    after = net.alphas.detach().cpu()
    assert (after - before).abs().max() > 1e-3
    assert len(r.alphas) == 2 and np.allclose(r.alphas[-1], after.numpy())
    assert len(r.val_acc) == 2 and all(0 <= v <= 100 for v in r.val_acc)
    arch = derive_argmax(net)
    assert SPACE.validate(arch) == arch
    assert [NB201_OPS.index(op) for op in arch.ops] == after.argmax(-1).tolist()


def test_spos_leaves_alphas_untouched(tiny):
    """SPOS trains weights only: alphas are unchanged and no alpha history is recorded."""
    net = _net(0)
    before = net.alphas.detach().clone()
    r = train_supernet(net, tiny, mode="spos", epochs=1, batch_size=32, seed=0, num_threads=1)
    assert torch.equal(net.alphas.detach(), before) and r.alphas == [] and r.val_acc == []


def test_gdas_sample_is_one_hot_in_forward(trained, tiny):
    """A GDAS sample is one-hot in value (at the argmax of the perturbed logits), carries the
    softmax's gradient to every alpha of a row, and the hard forward equals the single path."""
    gen = torch.Generator().manual_seed(0)
    alphas = torch.randn(6, 5, requires_grad=True)
    for tau in (0.1, 1.0, 10.0):
        hard, path = _gumbel_hard(alphas, tau, gen)
        torch.testing.assert_close(hard.detach(), _one_hot(path), rtol=0, atol=1e-6)
    (hard * torch.arange(5.0)).sum().backward()  # the tau = 10 sample: no saturated softmax
    assert (alphas.grad.abs() > 0).all()
    trained.eval()
    x = torch.from_numpy(tiny.x_val[:8]).float()
    hard, path = _gumbel_hard(trained.alphas.detach(), 1.0, gen)
    with torch.no_grad():
        torch.testing.assert_close(trained(x, weights=hard, path=path), trained(x, path=path),
                                   rtol=1e-5, atol=1e-5)
    assert gdas_tau(0, 5) == 10.0 and gdas_tau(4, 5) == pytest.approx(0.1)


def test_spos_paths_cover_ops_uniformly():
    """3,000 SPOS paths (seed 0): each edge's op counts pass a chi-square test of uniformity
    (p > 0.01), and the edges are independent (pairwise contingency test on edges 0 and 5)."""
    gen = torch.Generator().manual_seed(0)
    paths = np.array([_uniform_path(6, 5, gen) for _ in range(3000)])
    for e in range(6):
        counts = np.bincount(paths[:, e], minlength=5)
        assert counts.min() > 0
        assert stats.chisquare(counts).pvalue > 0.01, (e, counts)
    table = np.zeros((5, 5))
    np.add.at(table, (paths[:, 0], paths[:, 5]), 1)
    assert stats.chi2_contingency(table).pvalue > 0.01


def test_checkpoint_resume_equals_uninterrupted_training(tiny, tmp_path):
    """GDAS 3 epochs straight == 1 epoch, crash, resume: same weights, alphas and curves bit for
    bit; a finished checkpoint returns at once; other settings and trainer checkpoints are refused."""
    straight_net = _net(3)
    straight = train_supernet(straight_net, tiny, mode="gdas", epochs=3, batch_size=32, seed=3,
                              num_threads=1)
    ckpt = tmp_path / "sn.pt"

    def crash(epoch, hist):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_supernet(_net(3), tiny, mode="gdas", epochs=3, batch_size=32, seed=3,
                       num_threads=1, checkpoint=ckpt, callback=crash)
    assert torch.load(ckpt, weights_only=True)["epoch"] == 1
    net = _net(3)
    resumed = train_supernet(net, tiny, mode="gdas", epochs=3, batch_size=32, seed=3,
                             num_threads=1, checkpoint=ckpt)
    assert resumed.resumed_from == 1
    assert resumed.train_loss == straight.train_loss and resumed.val_acc == straight.val_acc
    assert resumed.alphas == straight.alphas
    ref = straight_net.state_dict()
    assert all(torch.equal(v, ref[k]) for k, v in net.state_dict().items())
    again = train_supernet(_net(3), tiny, mode="gdas", epochs=3, batch_size=32, seed=3,
                           checkpoint=ckpt)
    assert again.resumed_from == 3 and again.train_loss == straight.train_loss
    with pytest.raises(InvalidParameterError, match=r"lr: stored 0\.025, now 0\.05"):
        train_supernet(_net(3), tiny, mode="gdas", epochs=3, batch_size=32, seed=3, lr=0.05,
                       checkpoint=ckpt)
    trainer_ckpt = tmp_path / "trainer.pt"
    train(build_nb201(ARCHS[0], width=4, depth=1, in_channels=1), tiny, epochs=1,
          num_threads=1, checkpoint=trainer_ckpt)
    with pytest.raises(InvalidParameterError, match=r"other settings.*kind: stored None"):
        train_supernet(_net(3), tiny, mode="gdas", epochs=1, checkpoint=trainer_ckpt)


def test_darts_second_order_gradient_matches_the_exact_hypergradient(trained, tiny):
    """DARTS's unrolled gradient equals the exact gradient of L_val(w - xi (grad_w L_train(w, a)
    + wd w), a) computed by differentiating through the virtual step (float64, eval-mode BN so
    both see the same function), and differs from the first-order gradient."""
    net = _net()
    net.load_state_dict(trained.state_dict())
    net.eval().double()
    xw = torch.from_numpy(tiny.x_train[:32]).double()
    yw = torch.from_numpy(tiny.y_train[:32])
    xa = torch.from_numpy(tiny.x_train[32:64]).double()
    ya = torch.from_numpy(tiny.y_train[32:64])
    with torch.no_grad():
        net.alphas.copy_(torch.randn(6, 5, generator=torch.Generator().manual_seed(1)))
    xi, wd = 0.05, 3e-4
    loss_fn = torch.nn.CrossEntropyLoss()
    _darts_unrolled_step(net, loss_fn, xw, yw, xa, ya, xi, wd, None)
    approx = net.alphas.grad.clone()
    net.alphas.grad = None

    from torch.func import functional_call

    names = [n for n, _ in net.named_parameters() if n != "alphas"]
    params = [p for n, p in net.named_parameters() if n != "alphas"]
    buffers = dict(net.named_buffers())

    def loss_at(ws, x, y):
        state = {**dict(zip(names, ws, strict=True)), "alphas": net.alphas, **buffers}
        out = functional_call(net, state, (x,), {"weights": torch.softmax(net.alphas, -1)})
        return loss_fn(out, y)

    g = torch.autograd.grad(loss_at(params, xw, yw), params, create_graph=True)
    virtual = [p - xi * (gi + wd * p) for p, gi in zip(params, g, strict=True)]
    (exact,) = torch.autograd.grad(loss_at(virtual, xa, ya), [net.alphas])
    (first,) = torch.autograd.grad(loss_at(params, xa, ya), [net.alphas])
    err = torch.linalg.norm(approx - exact) / torch.linalg.norm(exact)
    assert err < 1e-10
    assert torch.linalg.norm(first - exact) / torch.linalg.norm(exact) > 1e-2


def test_darts_second_order_trains(tiny):
    """order=2 runs, moves the alphas, and differs from first-order DARTS with the same seed."""
    a, b = _net(0), _net(0)
    ra = train_supernet(a, tiny, mode="darts", order=2, epochs=1, batch_size=32, seed=0,
                        num_threads=1)
    train_supernet(b, tiny, mode="darts", order=1, epochs=1, batch_size=32, seed=0,
                        num_threads=1)
    assert ra.order == 2 and np.isfinite(ra.train_loss).all()
    assert not torch.equal(a.alphas, b.alphas)


def test_inherited_accuracy_recalibrates_bn_and_keeps_the_supernet(trained, tiny):
    """inherited_accuracy equals evaluating the extracted network after BN recalibration, is
    repeatable, differs from the un-recalibrated value, and leaves the supernet unchanged."""
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    arch = ARCHS[2]
    acc = inherited_accuracy(trained, arch, tiny, bn_recalibration_batches=3, batch_size=32)
    assert acc == inherited_accuracy(trained, arch, tiny, bn_recalibration_batches=3,
                                     batch_size=32)
    raw = inherited_accuracy(trained, arch, tiny, bn_recalibration_batches=0)
    alone = trained.extract(arch).eval()
    with torch.no_grad():
        x = (torch.from_numpy(tiny.x_val).float() - torch.tensor(tiny.mean).reshape(1, -1, 1, 1)
             ) / torch.tensor(tiny.std).reshape(1, -1, 1, 1)
        manual = 100.0 * float((alone(x).argmax(1).numpy() == tiny.y_val).mean())
    assert raw == pytest.approx(manual)
    assert 0 <= acc <= 100
    assert all(torch.equal(v, before[k]) for k, v in trained.state_dict().items())
    with pytest.raises(InvalidParameterError, match="bn_recalibration_batches"):
        inherited_accuracy(trained, arch, tiny, bn_recalibration_batches=-1)


def test_bad_training_settings_are_refused(tiny):
    """A bad mode, order 2 outside DARTS or too few classes raise InvalidParameterError."""
    with pytest.raises(InvalidParameterError, match=r"'mode' parameter of train_supernet must be"
                       r" one of 'darts', 'gdas', 'spos'\. Got 'enas'"):
        train_supernet(_net(), tiny, mode="enas", epochs=1)
    with pytest.raises(InvalidParameterError, match=r"order.*2 only for mode 'darts'"):
        train_supernet(_net(), tiny, mode="gdas", order=2, epochs=1)
    small = build_supernet(width=4, in_channels=1, num_classes=3)
    with pytest.raises(InvalidParameterError, match="num_classes=10"):
        train_supernet(small, tiny, mode="spos", epochs=1)


@pytest.mark.parametrize(("mode", "order"), [("darts", 1), ("darts", 2), ("gdas", 1), ("spos", 1)])
def test_bfloat16_autocast_runs_every_mode(tiny, mode, order):
    """Mixed precision (bfloat16 autocast, the CUDA default where supported) trains every mode
    on CPU with finite losses and float32 weights."""
    net = _net(0)
    r = train_supernet(net, tiny, mode=mode, order=order, epochs=1, batch_size=32,
                       amp="bfloat16", num_threads=1)
    assert r.amp == "bfloat16" and np.isfinite(r.train_loss).all()
    assert net.stem[0].weight.dtype == torch.float32 and torch.isfinite(net.alphas).all()
