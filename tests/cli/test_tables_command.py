"""``predictor-nas tables``: list, info and verify."""

from __future__ import annotations

import json

from predictor_nas.cli import main


def test_tables_list_info_verify(capsys):
    """`tables list`, `info` and `verify` describe and check the embedded table."""
    assert main(["tables", "list", "--json"]) == 0
    tables = json.loads(capsys.readouterr().out)["tables"]
    nb = next(t for t in tables if t["name"] == "nb201")
    assert nb["ok"] and nb["n_archs"] == 15625
    assert sorted(nb["datasets"]) == ["ImageNet16-120", "cifar10", "cifar100"]
    assert main(["tables", "info", "nb201", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["datasets"]["cifar10"]["val_acc"]["fidelities"] == [200]
    assert info["content_hash"].startswith("sha256:")
    assert main(["tables", "verify", "nb201"]) == 0
    assert capsys.readouterr().out.startswith("OK")


def test_verify_reports_a_flipped_byte(run_cli, tmp_path, nb201_table, capsys):
    """`tables verify` on a copy with one flipped byte fails and names the file."""
    bad = tmp_path / "flipped.h5"
    data = bytearray(open(nb201_table.path, "rb").read())
    data[len(data) // 2] ^= 0x40
    bad.write_bytes(bytes(data))
    assert main(["tables", "verify", str(bad)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAILED") and str(bad) in out and "corrupted" in out
    code, _, err = run_cli("search", "--table", str(bad), "--json", cwd=tmp_path)
    assert code == 2 and str(bad) in err and "Traceback" not in err
