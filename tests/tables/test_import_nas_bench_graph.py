"""The nas-bench-graph importer: its restricted unpickler refuses crafted pickles, a synthetic
wheel / folder imports value for value, search and predictors run on the table, and (when the
real nas-bench-graph 1.4.0 wheel is on this machine) the real benchmark imports reproducibly."""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from predictor_nas.cli import main
from predictor_nas.exceptions import (
    InvalidParameterError,
    TableFormatError,
    TableNotFoundError,
)
from predictor_nas.spaces import get_space
from predictor_nas.spaces._nas_bench_graph import read_key_file, shipped_key_file
from predictor_nas.tables import open_table
from predictor_nas.tables.importers import IMPORT_SOURCES, IMPORTERS, import_nas_bench_graph
from predictor_nas.tables.importers._nas_bench_graph import (
    MEMBER,
    benchmark_keys,
    load_bench,
)

SPACE = get_space("nas_bench_graph")
REPO = Path(__file__).resolve().parent.parent.parent
SHARED_DATA = Path(os.environ.get("PREDICTOR_NAS_SHARED_DATA", REPO.parent / "shared" / "data"))
WHEEL_NAME = "nas_bench_graph-1.4.0-py3-none-any.whl"
#: Where the real wheel may be: /tmp/nbg (pip download) or ../shared/data/nas-bench-graph.
REAL_WHEELS = [Path("/tmp/nbg") / WHEEL_NAME, SHARED_DATA / "nas-bench-graph" / WHEEL_NAME]
REAL_WHEEL = next((p for p in REAL_WHEELS if p.is_file()), None)
#: Content hash of the table imported from the real wheel (same from the extracted folder).
REAL_HASH = "sha256:13af4017560c0f3bc26ef5c24beb29f10515f45dd1275c87e4765a8f58246e96"


def numpy1_pickle(obj) -> bytes:
    """``obj`` pickled (protocol 3) as numpy 1.x wrote the benchmark: numpy scalars name
    ``numpy.core.multiarray.scalar`` (numpy 2 names ``numpy._core``; GLOBAL is plain text)."""
    raw = pickle.dumps(obj, protocol=3)
    return raw.replace(b"cnumpy._core.multiarray\nscalar\n", b"cnumpy.core.multiarray\nscalar\n")


def records(keys, seed: int) -> dict[int, dict]:
    """Benchmark-like records: Python floats for the perfs and latency, a numpy float64 para."""
    rng = np.random.default_rng(seed)
    return {
        int(k): {
            "valid_perf": float(rng.uniform(0.1, 0.9)),
            "perf": float(rng.uniform(0.1, 0.9)),
            "latency": float(rng.uniform(1e-4, 1e-2)),
            "para": np.float64(rng.uniform(0.05, 8.0)),
        }
        for k in keys
    }


def write_wheel(path: Path, data: dict[str, dict[int, dict]]) -> Path:
    """A zip laid out like the wheel, one ``light/<dataset>.bench`` per dataset."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("nas_bench_graph/__init__.py", "")
        for ds, recs in data.items():
            zf.writestr(MEMBER.format(ds), numpy1_pickle(recs))
    return path


SMALL_KEYS = [0, 1111, 30200, 88887, 75422]
PROTEIN_KEYS = [1111, 30200]


@pytest.fixture
def small_source(tmp_path: Path) -> tuple[Path, dict[str, dict[int, dict]]]:
    """A synthetic wheel: cora and citeseer with 5 listed keys, proteins with 2 of them."""
    data = {
        "cora": records(SMALL_KEYS, 0),
        "citeseer": records(SMALL_KEYS, 1),
        "proteins": records(PROTEIN_KEYS, 2),
    }
    return write_wheel(tmp_path / WHEEL_NAME, data), data


# --------------------------------------------------------------------------- the unpickler
def test_unpickler_refuses_a_pickle_that_calls_os_system(tmp_path: Path):
    """A crafted .bench naming os.system is refused before anything runs, naming file + global."""
    marker = tmp_path / "pwned"
    evil = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    assert b"os\nsystem" in evil
    with pytest.raises(TableFormatError, match=r"evil\.bench.*global os\.system") as info:
        load_bench(evil, "evil.bench")
    assert "numpy.core.multiarray.scalar and numpy.dtype" in str(info.value)
    assert not marker.exists()
    data = {"cora": records(SMALL_KEYS, 0)}
    wheel = write_wheel(tmp_path / WHEEL_NAME, data)
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.writestr(MEMBER.format("citeseer"), evil)
    with pytest.raises(TableFormatError, match=r"light/citeseer\.bench.*os\.system"):
        import_nas_bench_graph(wheel, out=tmp_path / "t.h5")
    assert not marker.exists() and not (tmp_path / "t.h5").exists()


@pytest.mark.parametrize(
    ("obj", "name"),
    [
        (OrderedDict({0: 1.0}), "collections.OrderedDict"),
        ({0: np.arange(3)}, "numpy._core.multiarray._reconstruct"),
        ({0: {"valid_perf": np.float64(0.5)}}, "numpy._core.multiarray.scalar"),
    ],
)
def test_unpickler_refuses_unexpected_globals(obj, name):
    """Any global but the two the benchmark uses (even numpy's own) is refused by name."""
    raw = pickle.dumps(obj, protocol=3)
    with pytest.raises(TableFormatError, match=rf"x\.bench: the pickle asks for the global {name}"):
        load_bench(raw, "x.bench")


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"not a pickle", "is not a NAS-Bench-Graph .bench pickle"),
        (pickle.dumps([1, 2]), "holds a list"),
        (pickle.dumps({}), "holds no records"),
        (pickle.dumps({"a": {}}), "key 'a' is not an int"),
        (pickle.dumps({99999: {}}), "not a NAS-Bench-Graph key"),
        (pickle.dumps({0: {"perf": 0.5}}), "record 0 must have exactly the fields"),
        (
            pickle.dumps({0: {"valid_perf": 0.5, "perf": "x", "latency": 1.0, "para": 1.0}}),
            "field 'perf' is 'x'",
        ),
        (
            pickle.dumps({0: {"valid_perf": float("nan"), "perf": 1, "latency": 1.0, "para": 1}}),
            "field 'valid_perf' is nan",
        ),
        (numpy1_pickle({0: np.float32(1.0)}), "only 'f8' is expected"),
    ],
)
def test_load_bench_refuses_malformed_files(raw, match):
    """Not a pickle, wrong structure, bad keys, missing fields, non-finite or non-float values."""
    with pytest.raises(TableFormatError, match=match):
        load_bench(raw, "x.bench")


def test_load_bench_rebuilds_numpy_scalars_exactly():
    """A numpy float64 pickled the way the benchmark did comes back bit for bit."""
    recs = records(SMALL_KEYS, 5)
    raw = numpy1_pickle(recs)
    assert b"cnumpy.core.multiarray\nscalar\n" in raw and b"cnumpy\ndtype\n" in raw
    back = load_bench(raw, "x.bench")
    assert back == {k: {f: float(v) for f, v in r.items()} for k, r in recs.items()}


# --------------------------------------------------------------------------- the importer
def test_importer_is_registered():
    """`tables import nas-bench-graph` reaches the importer; the not-found hint says how."""
    assert IMPORTERS["nas-bench-graph"] is import_nas_bench_graph
    assert "pip download --no-deps nas-bench-graph==1.4.0" in IMPORT_SOURCES["nas-bench-graph"]
    with pytest.raises(TableNotFoundError, match="tables import nas-bench-graph --source"):
        open_table("nas-bench-graph")


def test_synthetic_wheel_imports_every_value(small_source, tmp_path: Path):
    """Values as in the pickles (accuracies x100), proteins NaN where absent, listed arch rows."""
    wheel, data = small_source
    path, chash = import_nas_bench_graph(wheel, out=tmp_path / "nbg.h5")
    t = open_table(path)
    assert t.space == "nas_bench_graph" and t.name == "nas-bench-graph"
    assert list(t.archs) == [SPACE.format(SPACE.from_key(k)) for k in sorted(SMALL_KEYS)]
    assert sorted(t.datasets) == ["citeseer", "cora", "proteins"]
    for ds, recs in data.items():
        for k in SMALL_KEYS:
            row = t.row(SPACE.format(SPACE.from_key(k)))
            got = {
                m: t.values(m, dataset=ds)[row, 0]
                for m in ("val_acc", "test_acc", "latency", "params")
            }
            if k not in recs:
                assert all(np.isnan(v) for v in got.values())
                continue
            r = recs[k]
            assert got["val_acc"] == r["valid_perf"] * 100
            assert got["test_acc"] == r["perf"] * 100
            assert got["latency"] == r["latency"]
            assert got["params"] == float(r["para"])
    info = t.metric_info("val_acc", dataset="cora")
    assert info.unit == "%" and info.higher_is_better and t.fidelities("val_acc", dataset="cora")
    assert t.metric_info("latency", dataset="cora").unit == "s"
    assert not t.metric_info("params", dataset="cora").higher_is_better
    assert np.isnan(t.values("train_time", dataset="cora")).all()
    assert chash.startswith("sha256:")


def test_folder_and_wheel_give_the_same_table(small_source, tmp_path: Path):
    """The extracted wheel, its light/ folder and a folder holding the wheel import identically."""
    wheel, _ = small_source
    _, h_wheel = import_nas_bench_graph(wheel, out=tmp_path / "a.h5")
    ex = tmp_path / "ex"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(ex)
    for src in (ex, ex / "nas_bench_graph", ex / "nas_bench_graph" / "light", wheel.parent):
        _, h = import_nas_bench_graph(src, out=tmp_path / "b.h5", overwrite=True)
        assert h == h_wheel


def test_importer_refuses_unlisted_keys_and_missing_sources(tmp_path: Path):
    """A key the space does not list names the file and key; no source / existing out refused."""
    wheel = write_wheel(tmp_path / WHEEL_NAME, {"cora": records([0, 30187], 0)})
    with pytest.raises(TableFormatError, match=r"light/cora\.bench: key 30187 is not an arch"):
        import_nas_bench_graph(wheel, out=tmp_path / "t.h5")
    with pytest.raises(TableNotFoundError, match=r"no NAS-Bench-Graph <dataset>\.bench"):
        import_nas_bench_graph(tmp_path / "nothing", out=tmp_path / "t.h5")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TableNotFoundError, match="pip download --no-deps"):
        import_nas_bench_graph(tmp_path / "empty", out=tmp_path / "t.h5")
    not_zip = tmp_path / "fake.whl"
    not_zip.write_bytes(b"no zip")
    with pytest.raises(TableFormatError, match="not a readable wheel"):
        import_nas_bench_graph(not_zip, out=tmp_path / "t.h5")
    ok = write_wheel(tmp_path / "ok.whl", {"cora": records([0], 0)})
    import_nas_bench_graph(ok, out=tmp_path / "t.h5")
    with pytest.raises(InvalidParameterError, match="already exists"):
        import_nas_bench_graph(ok, out=tmp_path / "t.h5")


# --------------------------------------------------------------------------- search on it
@pytest.fixture(scope="module")
def full_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding nas-bench-graph imported from a synthetic wheel of every listed key
    (cora, citeseer; the numbers are synthetic, the space and the code path are the real ones)."""
    folder = tmp_path_factory.mktemp("nbg-cache")
    rng = np.random.default_rng(0)
    # A smooth signal of the decisions plus noise, so predictors have something to rank.
    weights = {o: w for o, w in zip(SPACE.param_choices("op0"), rng.uniform(0, 1, 9))}
    data = {}
    for ds, seed in (("cora", 1), ("citeseer", 2)):
        recs = records(SPACE.keys, seed)
        for k, r in recs.items():
            ops = SPACE.from_key(k).ops[1:]
            r["valid_perf"] = 0.4 + 0.1 * sum(weights[o] for o in ops) + 0.01 * r["perf"]
        data[ds] = recs
    wheel = write_wheel(folder / WHEEL_NAME, data)
    import_nas_bench_graph(wheel, out=folder / "nas-bench-graph.h5")
    wheel.unlink()
    return folder


def test_search_runs_on_the_table(full_cache: Path, monkeypatch, capsys):
    """`predictor-nas search --table nas-bench-graph --dataset cora --strategy rea --budget 20`."""
    monkeypatch.setenv("PREDICTOR_NAS_CACHE", str(full_cache))
    args = ["search", "--table", "nas-bench-graph", "--dataset", "cora", "--strategy", "rea"]
    assert main([*args, "--budget", "20", "--storage", "memory", "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_queries"] == 20
    assert SPACE.key(SPACE.parse(out["best_arch"])) in SPACE.keys
    assert out["regret_val"] >= 0


def test_predictors_evaluate_runs_on_the_table(full_cache: Path, monkeypatch, capsys):
    """`predictor-nas predictors evaluate` ranks the space's archs (Kendall tau per n)."""
    monkeypatch.setenv("PREDICTOR_NAS_CACHE", str(full_cache))
    args = ["predictors", "evaluate", "--table", "nas-bench-graph", "--dataset", "citeseer"]
    assert main([*args, "--train-sizes", "20,100", "--seeds", "2", "--json", "--no-progress"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_archs"] == 26_206 and result["metric"] == "val_acc"
    taus = {r["train_size"]: r["kendall_tau"] for r in result["results"]}
    assert set(taus) == {20, 100}
    assert taus[100] > 0.5  # the synthetic values are additive in the ops: ridge ranks them


# --------------------------------------------------------------------------- the real wheel
needs_wheel = pytest.mark.skipif(
    REAL_WHEEL is None, reason=f"nas-bench-graph 1.4.0 wheel not found at {REAL_WHEELS}"
)


@needs_wheel
def test_shipped_key_file_is_the_real_benchmarks_key_set():
    """data/spaces/nas_bench_graph_keys.txt.gz = the union of the 9 real .bench files' keys."""
    assert benchmark_keys(REAL_WHEEL) == list(read_key_file(shipped_key_file()))


@needs_wheel
@pytest.mark.slow
def test_real_wheel_imports_reproducibly(tmp_path: Path):
    """The real wheel: 26,206 archs x 9 datasets, proteins 2,021, known values, pinned hash."""
    path, chash = import_nas_bench_graph(REAL_WHEEL, out=tmp_path / "nbg.h5")
    assert chash == REAL_HASH
    t = open_table(path)
    assert len(t.archs) == 26_206 and len(t.datasets) == 9
    assert int(np.sum(~np.isnan(t.values("val_acc", dataset="proteins")))) == 2021
    row = t.row("link=0-0-0-0|gat,gat,gat,gat")  # key 0, the first record of cora.bench
    assert t.values("val_acc", dataset="cora")[row, 0] == 0.7733333333333334 * 100
    assert t.values("test_acc", dataset="cora")[row, 0] == 0.797 * 100
    assert t.values("latency", dataset="cora")[row, 0] == 0.005922238032023112
    para = np.frombuffer(b"\xc1\xa79y\x91\xc9\xfb?", dtype="<f8")[0]  # bytes in the pickle
    assert t.values("params", dataset="cora")[row, 0] == para
    assert t.best("val_acc", dataset="cora")[1] == pytest.approx(81.9333333)
