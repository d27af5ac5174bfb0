"""The YAHPO NB301 ONNX surrogate evaluator: the README example, batches, encoding and errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from predictor_nas.evaluators import NB301SurrogateEvaluator
from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.spaces import NB301_OPS, NB301Space
from predictor_nas.spaces._nb301 import INPUT_PAIRS

SPACE = NB301Space()

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


@pytest.fixture(scope="module")
def surrogate(shared_data):
    """The NB301 surrogate from ../shared/data (skipped when absent)."""
    return NB301SurrogateEvaluator(shared_data / "surrogates" / "yahpo" / "nb301")


def test_surrogate_reproduces_readme_example(surrogate):
    """The README's verified example: val accuracy, cross-entropy and runtime at epochs 1/50/98."""
    c = surrogate.curves([SPACE.parse(EXAMPLE)], [1, 50, 98])
    assert c.val_acc.shape == (1, 3)
    for j, e in enumerate((1, 50, 98)):
        acc, ce, rt = EXAMPLE_OUTPUT[e]
        assert c.val_acc[0, j] / 100 == pytest.approx(acc, abs=6e-5)
        assert c.val_cross_entropy[0, j] == pytest.approx(ce, abs=6e-5)
        assert c.runtime[0, j] == pytest.approx(rt, abs=6e-4)
    one = surrogate.evaluate(EXAMPLE, 98)
    assert one.value == one.metrics["val_acc"] == pytest.approx(93.02, abs=0.006)
    assert one.cost == one.metrics["runtime"] == pytest.approx(EXAMPLE_OUTPUT[98][2], abs=6e-4)
    assert one.fidelity == 98
    assert surrogate.model_sha256.startswith("sha256:")


def test_surrogate_batches_are_row_independent(surrogate):
    """A batch gives the same numbers as one call per arch and per epoch; full curve = 98 epochs."""
    archs = [SPACE.sample(s) for s in range(3)]
    full = surrogate.curves(archs)
    assert full.val_acc.shape == (3, 98) and list(full.epochs) == list(range(1, 99))
    for i, a in enumerate(archs):
        single = surrogate.curves([a], [7, 98])
        np.testing.assert_allclose(single.val_acc[0], full.val_acc[i, [6, 97]], rtol=0, atol=1e-9)
        np.testing.assert_allclose(single.runtime[0], full.runtime[i, [6, 97]], rtol=0, atol=1e-9)
    assert np.all((full.val_acc > 0) & (full.val_acc < 100))
    assert np.all(full.val_acc[:, -1] > full.val_acc[:, 0])
    assert surrogate.curves([], [1]).val_acc.shape == (0, 1)


def test_surrogate_encodes_inactive_edges_as_na(surrogate):
    """x_cat uses the encoding file's codes, '#na#' (0) for the 12 inactive edges of each cell."""
    x = surrogate.encode([SPACE.parse(EXAMPLE)])
    assert x.shape == (1, 34) and x.dtype == np.int32
    normal = x[0, :14]
    assert [i for i in range(14) if normal[i] == 0] == [4, 7, 8, 11, 12, 13]
    assert set(normal[normal > 0].tolist()) == {5}  # sep_conv_3x3
    assert x[0, 28:].tolist() == [1] * 6  # "0_1"


def test_surrogate_bad_inputs(surrogate, tmp_path, shared_data):
    """Bad folder, epochs, archs and a foreign config space raise the standard errors."""
    with pytest.raises(InvalidParameterError, match="'path' parameter of NB301SurrogateEvaluator"):
        NB301SurrogateEvaluator(tmp_path)
    with pytest.raises(InvalidParameterError, match=r"epochs \(ints\) in \[1, 98\]"):
        surrogate.curves([EXAMPLE], [0, 5])
    with pytest.raises(InvalidParameterError, match="epochs"):
        surrogate.curves([EXAMPLE], [99])
    with pytest.raises(InvalidParameterError, match="a single one"):
        surrogate.encode(EXAMPLE)
    with pytest.raises(InvalidArchitectureError):
        surrogate.curves(["|nor_conv_3x3~0|"], [1])
    src = shared_data / "surrogates" / "yahpo" / "nb301"
    for f in ("model_v2.onnx", "encoding_v2.json"):
        os.symlink(src / f, tmp_path / f)
    cs = json.loads((src / "config_space_v2.json").read_text())
    cs["conditions"][0]["values"] = ["0_2"]  # another space: edge_normal_2 active on "0_2" only
    (tmp_path / "config_space_v2.json").write_text(json.dumps(cs))
    with pytest.raises(InvalidParameterError, match="does not describe the NB301 space"):
        NB301SurrogateEvaluator(tmp_path)
    # the parent folder (holding nb301/) is accepted too
    assert NB301SurrogateEvaluator(src.parent).path == src
    assert INPUT_PAIRS[3] == ("0_1", "0_2", "1_2") and len(NB301_OPS) == 7
