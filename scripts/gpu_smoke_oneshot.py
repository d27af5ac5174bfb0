"""Check the supernet's CUDA / mixed-precision path on a GPU machine (CI has no GPU).

On digits, NB201 supernet width 16, depth 1, printing one JSON object on stdout:

- every mode (DARTS first- and second-order, GDAS, SPOS) trains with ``device="auto"`` on CUDA
  under autocast (bfloat16 where supported) with finite losses;
- SPOS: inherited-weight validation accuracy of a conv cell after 6 epochs is far above chance
  (> 50 %);
- the sub-network extracted from the supernet gives the supernet path's logits on the device
  (fp32, eval mode, within 1e-4);
- resume: 2 epochs + crash + resume to 4 give the same losses as 4 straight epochs (within 1e-3
  on CUDA: cuDNN kernels may differ in the last bits).

Usage (exit status 1 if a check fails or there is no CUDA; ``--device cpu`` runs the same
checks on the CPU)::

    python scripts/gpu_smoke_oneshot.py
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"


def main(argv: list[str] | None = None) -> int:
    """Run the checks; return 0 when all pass."""
    import torch

    from predictor_nas.oneshot import build_supernet, inherited_accuracy, train_supernet
    from predictor_nas.training import load_digits_data

    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--device", default="auto")
    args = p.parse_args(argv)
    if args.device != "cpu" and not torch.cuda.is_available():
        sys.stderr.write("no CUDA device: nothing to check (use --device cpu)\n")
        return 1
    data = load_digits_data(0)
    out: dict = {"torch": torch.__version__,
                 "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    checks: dict[str, bool] = {}
    kw = dict(batch_size=64, seed=0, device=args.device)
    for mode, order in (("darts", 1), ("darts", 2), ("gdas", 1), ("spos", 1)):
        net = build_supernet(width=16, depth=1, in_channels=1, seed=0)
        r = train_supernet(net, data, mode=mode, order=order, epochs=2 if mode != "spos" else 6,
                           **kw)
        out[f"{mode}{order}"] = {"device": r.device, "amp": r.amp, "loss": r.train_loss,
                                 "val_acc": r.val_acc, "seconds": r.seconds}
        checks[f"{mode}{order}_finite"] = all(math.isfinite(v) for v in r.train_loss)
        if mode == "spos":
            acc = inherited_accuracy(net, ARCH, data)
            out["spos_inherited_acc"] = acc
            checks["spos_learns"] = acc > 50.0
            net.eval()
            x = torch.from_numpy(data.x_val[:64]).float().to(net.alphas.device)
            with torch.no_grad():
                a = net(x, path=net.path_of(ARCH)).float()
                b = net.extract(ARCH).eval()(x).float()
            out["extract_max_diff"] = float((a - b).abs().max())
            checks["extract_equal"] = out["extract_max_diff"] < 1e-4
        if args.device != "cpu":
            checks[f"{mode}{order}_on_cuda"] = r.device.startswith("cuda") and r.amp is not None
    straight = train_supernet(build_supernet(width=16, depth=1, in_channels=1), data,
                              mode="gdas", epochs=4, **kw)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "sn.pt"

        def crash(epoch: int, hist: dict) -> None:
            if epoch == 2:
                raise KeyboardInterrupt

        try:
            train_supernet(build_supernet(width=16, depth=1, in_channels=1), data, mode="gdas",
                           epochs=4, checkpoint=ckpt, callback=crash, **kw)
        except KeyboardInterrupt:
            pass
        resumed = train_supernet(build_supernet(width=16, depth=1, in_channels=1), data,
                                 mode="gdas", epochs=4, checkpoint=ckpt, **kw)
    out["resume"] = {"straight": straight.train_loss, "resumed": resumed.train_loss,
                     "resumed_from": resumed.resumed_from}
    checks["resume"] = resumed.resumed_from == 2 and all(
        abs(a - b) < 1e-3 for a, b in zip(straight.train_loss, resumed.train_loss, strict=True))
    out["checks"] = checks
    sys.stdout.write(json.dumps(out, indent=1) + "\n")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
