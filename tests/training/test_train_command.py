"""predictor-nas train: one architecture fully trained on digits, saved and reloadable."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from predictor_nas.cli import main  # noqa: E402
from predictor_nas.models import build_model  # noqa: E402
from predictor_nas.spaces import get_space  # noqa: E402
from predictor_nas.training import load_digits_data, load_trained  # noqa: E402

ARCH = (
    "n_layers=2,layer_0_type=conv,layer_0_filters=32,layer_0_kernel_size=3,layer_0_stride=1,"
    "layer_0_padding=same,layer_0_activation=relu,layer_1_type=conv,layer_1_filters=64,"
    "layer_1_kernel_size=3,layer_1_stride=2,layer_1_padding=same,layer_1_activation=relu"
)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_train_layer_chain_on_digits_saves_a_reloadable_model(tmp_path, capsys):
    """2 epochs of layer_chain at width 0.25: files written, accuracies above chance, the saved
    state dict in a freshly built model and the TorchScript file give identical outputs."""
    out = tmp_path / "run"
    rc = main(["train", "--space", "layer_chain", "--arch", ARCH, "--dataset", "digits",
               "--epochs", "2", "--seed", "1", "--width", "0.25", "--out", str(out),
               "--threads", "1", "--json"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    assert sorted(p.name for p in out.iterdir()) == ["arch.json", "model.pt", "model.ts"]
    record = json.loads((out / "arch.json").read_text())
    assert record["space"] == "layer_chain" and record["arch"] == ARCH
    assert record["space_spec"] == json.loads(json.dumps(get_space("layer_chain").spec()))
    assert record["val_acc"] > 10 and record["test_acc"] > 10
    assert record["val_acc"] == result["val_acc"] and len(record["val_curve"]) == 2
    assert record["torchscript"]["file"] == "model.ts"

    fresh = build_model(get_space("layer_chain"), ARCH, in_channels=1, num_classes=10, seed=99,
                        width=0.25, image_size=8)
    fresh.load_state_dict(torch.load(out / "model.pt", weights_only=True))
    fresh.eval()
    data = load_digits_data(seed=1)
    x = (torch.from_numpy(data.x_test[:32]) - data.mean[0]) / data.std[0]
    with torch.no_grad():
        want = fresh(x)
        assert torch.equal(load_trained(out)(x), want)
        assert torch.allclose(torch.jit.load(str(out / "model.ts"))(x), want, atol=1e-6)
    acc = float((want.argmax(1) == torch.from_numpy(data.y_test[:32])).float().mean()) * 100
    assert acc > 10


def test_train_refuses_a_collapsing_arch_before_training(tmp_path, capsys):
    """Valid 5x5 layers that shrink 8x8 digits below a pixel: exit 2, one line naming the
    layer, nothing written."""
    arch = (
        "n_layers=3,layer_0_type=conv,layer_0_filters=32,layer_0_kernel_size=5,layer_0_stride=1,"
        "layer_0_padding=valid,layer_0_activation=relu,layer_1_type=pool,layer_1_kernel_size=5,"
        "layer_1_stride=1,layer_1_padding=valid,layer_2_type=pool,layer_2_kernel_size=3,"
        "layer_2_stride=1,layer_2_padding=same"
    )
    out = tmp_path / "run"
    rc = main(["train", "--space", "layer_chain", "--arch", arch, "--epochs", "1",
               "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err
    assert "Layer 1 (pool, kernel_size=5" in err and "4x4 input" in err
    assert not out.exists()


def test_train_refuses_an_arch_string_of_another_space(tmp_path, capsys):
    """An NB201 cell string given for layer_chain exits 2 with one line."""
    rc = main(["train", "--space", "layer_chain", "--arch", "|none~0|+|none~0|none~1|",
               "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("predictor-nas train: error:") and "\n" not in err
