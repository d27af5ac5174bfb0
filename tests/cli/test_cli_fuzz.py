"""The CLI's promise over every command: a user mistake is one line on stderr and exit 2.

The commands and their options are read from ``build_parser()`` (subparsers and their
actions), so a new command or flag is fuzzed without touching this file. Every option gets bad
values of its kind (non-numeric, negative, zero, huge ints; NaN and inf floats; unknown
choices; empty strings; paths that are missing, a folder, or under a file; storage URLs that
cannot work), in-process through ``predictor_nas.cli.main``. The fast set checks one
representative bad value per option kind plus a bounded Hypothesis draw; the ``slow`` sweep
checks every value for every option.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictor_nas.cli import build_parser, main

NB201_ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
#: Seconds an accepted value may run before the check stops it (the run was not refused).
RUN_LIMIT = 8.0


class _StillRunning(BaseException):
    """Raised by the alarm in a command that accepted the value and kept running."""


@dataclass(frozen=True)
class Option:
    """One option (or positional argument) of one leaf command.

    Attributes:
        command: The words of the command, e.g. ``("tables", "import")``.
        flag: The option string, or ``None`` for a positional argument.
        dest: The argparse destination.
        kind: ``int``, ``float``, ``choice``, ``path``, ``storage`` or ``str``.
        nargs_list: The option takes several values (``nargs='+'`` or ``'*'``).
    """

    command: tuple[str, ...]
    flag: str | None
    dest: str
    kind: str
    nargs_list: bool = False

    @property
    def id(self) -> str:
        """Readable test id."""
        return " ".join(self.command) + " " + (self.flag or f"<{self.dest}>")


_PATH_WORDS = ("path", "file", "dir", "out", "root", "plot", "source", "config", "checkpoint")


def _kind(action: argparse.Action) -> str:
    name = getattr(action.type, "__name__", "") if action.type is not None else ""
    text = f"{action.dest} {action.metavar or ''} {action.help or ''}".lower()
    if action.choices is not None:
        return "choice"
    if "storage" in action.dest:
        return "storage"
    if action.type is float or "float" in name:
        return "float"
    if action.type is int or "int" in name:
        return "int"
    if any(w in action.dest for w in _PATH_WORDS) or ".yaml" in text or "png" in text:
        return "path"
    return "str"


def _leaves(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> Iterator[tuple]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield words, parser
        return
    for name, sub in subs[0].choices.items():
        yield from _leaves(sub, (*words, name))


def enumerate_options() -> list[Option]:
    """Every value-taking option and positional argument of every leaf command."""
    out = []
    for words, parser in _leaves(build_parser()):
        for action in parser._actions:
            if action.dest in ("help", "version") or action.nargs == 0:
                continue
            if isinstance(action, argparse._SubParsersAction):
                continue
            flag = max(action.option_strings, key=len) if action.option_strings else None
            many = action.nargs in ("+", "*")
            out.append(Option(tuple(words), flag, action.dest, _kind(action), many))
    return out


OPTIONS = enumerate_options()


def bad_values(kind: str, tmp: Path) -> list[str]:
    """Values a user may type by mistake for an option of ``kind`` (all but paths are fixed)."""
    paths = [
        str(tmp / "missing" / "dir" / "x.h5"),
        str(tmp / "a_folder"),
        str(tmp / "a_file" / "x"),
        "",
    ]
    common = ["", "☃", "-"]
    by_kind = {
        "int": ["abc", "1.5", "-1", "0", "1" + "0" * 30, "-" + "9" * 25, "nan"],
        "float": ["nan", "inf", "-inf", "-1", "abc", "1e999", "0"],
        "choice": ["no-such-choice", "NAN"],
        "path": paths,
        "storage": [
            "postgresql://nobody@127.0.0.1:1/x",
            "sqlite:///" + str(tmp / "missing" / "dir" / "x.db"),
            "foo://",
            "postgresql://",
            "sqlite://",
            str(tmp / "a_folder"),
            str(tmp / "a_file" / "x.journal"),
        ],
        "str": ["no-such-thing", "../../etc", *paths[:2]],
    }
    return by_kind[kind] + common


def _base_argv(command: tuple[str, ...], tmp: Path) -> list[str]:
    """A quick valid (or quickly refused) invocation that the bad value is put into."""
    bases = {
        ("search",): ["--storage", "memory", "--budget", "2", "--no-progress"],
        ("tables", "info"): ["nb201"],
        ("tables", "verify"): ["nb201"],
        ("tables", "import"): ["nb201-rich", "--source", str(tmp / "missing_src")],
        ("predictors", "evaluate"): [
            "--predictors",
            "bayesian_ridge",
            "--train-sizes",
            "10",
            "--seeds",
            "1",
            "--no-progress",
        ],
        ("compare",): [
            "--strategies",
            "random",
            "--budget",
            "2",
            "--seeds",
            "1",
            "--datasets",
            "cifar10",
            "--no-progress",
            "--out",
            str(tmp / "cmp"),
        ],
        ("multifidelity",): ["--max-evaluations", "3", "--no-progress"],
        ("coordinate",): [
            "--storage",
            str(tmp / "coord.journal"),
            "--budget",
            "2",
            "--max-seconds",
            "0.5",
        ],
        ("worker",): ["--storage", str(tmp / "no.journal"), "--wait", "0"],
        ("storage", "repair"): [str(tmp / "missing.journal")],
        ("train",): [
            "--space",
            "nb201",
            "--arch",
            NB201_ARCH,
            "--out",
            str(tmp / "train.json"),
            "--dataset",
            "cifar10",  # refused at once: no CIFAR-10 under --data-root (digits would train)
            "--data-root",
            str(tmp / "no_data"),
        ],
    }
    return list(bases.get(command, []))


def build_argv(opt: Option, value: str, tmp: Path) -> list[str]:
    """The base invocation of ``opt.command`` with ``opt`` set to ``value``."""
    base = _base_argv(opt.command, tmp)
    if opt.flag is None:
        positional = [a for a in base if not a.startswith("-")][:1]
        rest = base[1:] if positional and base and base[0] == positional[0] else base
        return [*opt.command, value, *rest]
    if opt.flag in base:  # replace the base's own value
        i = base.index(opt.flag)
        base = base[:i] + base[i + 2 :]
    return [
        *opt.command,
        *base,
        f"{opt.flag}={value}" if value.startswith("-") else opt.flag,
        *([] if value.startswith("-") else [value]),
    ]


@dataclass
class Outcome:
    """What one in-process run did."""

    argv: list[str]
    code: int | str | None
    err: str
    escaped: BaseException | None


def run(argv: list[str]) -> Outcome:
    """``main(argv)`` in-process with stdout/stderr captured and a time limit."""
    err, out = io.StringIO(), io.StringIO()
    escaped: BaseException | None = None
    code: int | str | None = None

    def _alarm(signum, frame):
        raise _StillRunning

    environ = dict(os.environ)  # --threads sets OMP_NUM_THREADS & co. for the process
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, RUN_LIMIT)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    except _StillRunning:
        code = "running"
    except BaseException as exc:  # the promise is that nothing escapes main()
        escaped = exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        os.environ.clear()
        os.environ.update(environ)
    return Outcome(argv, code, err.getvalue(), escaped)


def check(outcome: Outcome) -> None:
    """The promise: exit 0 (value accepted) or 2 with one error line; nothing escapes."""
    what = f"{outcome.argv!r} -> {outcome.code!r}\n{outcome.err}"
    if outcome.escaped is not None:
        raise AssertionError(f"{what}\nescaped main(): {outcome.escaped!r}") from outcome.escaped
    assert "Traceback" not in outcome.err, what
    assert outcome.code in (0, 2, "running"), what
    if outcome.code == 2:
        errors = [ln for ln in outcome.err.splitlines() if ": error: " in ln]
        assert len(errors) == 1, what
        assert outcome.err.rstrip("\n").endswith(errors[0]), what  # nothing after the message
        assert len(errors[0]) > len("predictor-nas x: error: "), what


@pytest.fixture(scope="module", autouse=True)
def _heavy_imports_done() -> None:
    """Import torch & co. before any time limit: an alarm inside a first import would leave
    the module half-imported for every later test."""
    import importlib

    for name in ("torch", "torchvision", "xgboost", "matplotlib.pyplot", "sklearn.ensemble"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


@pytest.fixture
def fuzz_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with a folder and a file to put paths under."""
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_file").write_text("not a folder\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_command_and_option_is_enumerated():
    """The walk of build_parser() finds every command and its options (new flags included)."""
    commands = {o.command for o in OPTIONS}
    assert {("search",), ("compare",), ("coordinate",), ("worker",), ("train",)} <= commands
    assert {("tables", "import"), ("storage", "repair"), ("predictors", "evaluate")} <= commands
    assert {o.kind for o in OPTIONS} == {"int", "float", "choice", "path", "storage", "str"}
    flags = {(o.command, o.flag) for o in OPTIONS}
    assert (("search",), "--budget") in flags and (("worker",), "--storage") in flags
    assert len(OPTIONS) > 100


#: Fast set: the value per kind that reaches the deepest validation.
_REPRESENTATIVE = {
    "int": ["abc", "-1"],
    "float": ["nan"],
    "choice": ["no-such-choice"],
    "path": ["a_file/x"],
    "storage": ["postgresql://nobody@127.0.0.1:1/x", "foo://"],
    "str": ["no-such-thing"],
}


@pytest.mark.parametrize("opt", OPTIONS, ids=lambda o: o.id)
def test_bad_value_of_every_option_is_one_line_and_exit_2(opt, fuzz_dir):
    """A representative bad value of each option exits 2 with one line, or is accepted."""
    for value in _REPRESENTATIVE[opt.kind]:
        if value == "a_file/x":
            value = str(fuzz_dir / value)
        check(run(build_argv(opt, value, fuzz_dir)))


@pytest.mark.slow  # ~12 s of Hypothesis draws: in the slow run (.ci/run runs both)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hypothesis_draws_over_all_options(fuzz_dir, data):
    """Random (option, bad value, junk text) draws keep the promise."""
    opt = data.draw(st.sampled_from(OPTIONS), label="option")
    value = data.draw(
        st.one_of(st.sampled_from(bad_values(opt.kind, fuzz_dir)), st.text(max_size=12)),
        label="value",
    )
    check(run(build_argv(opt, value, fuzz_dir)))


@pytest.mark.slow
@pytest.mark.parametrize("opt", OPTIONS, ids=lambda o: o.id)
def test_every_bad_value_of_every_option(opt, fuzz_dir):
    """Every bad value of every option keeps the promise (the full sweep)."""
    for value in bad_values(opt.kind, fuzz_dir):
        check(run(build_argv(opt, value, fuzz_dir)))


# --------------------------------------------------------------------------- found by the sweep
HUGE = "1" + "0" * 30


def test_huge_thread_count_is_refused_and_leaves_the_environment(fuzz_dir):
    """--threads 10**30 crashed in ctypes and left OMP_NUM_THREADS poisoned; now exit 2."""
    before = os.environ.get("OMP_NUM_THREADS")
    out = run(["search", "--storage", "memory", "--budget", "2", "--threads", HUGE])
    check(out)
    assert out.code == 2
    assert "The --threads option of search must be an int in [1, 4096]. Got 1000" in out.err
    assert os.environ.get("OMP_NUM_THREADS") == before
    check(out := run(["search", "--storage", "memory", "--budget", "2", "--no-progress"]))
    assert out.code == 0  # the next command is not poisoned


def test_huge_grace_period_is_refused(fuzz_dir):
    """--grace-period 10**30 overflowed a timedelta inside the coordinator; now exit 2."""
    out = run(["coordinate", "--storage", str(fuzz_dir / "c.journal"), "--grace-period", HUGE])
    check(out)
    assert out.code == 2
    assert "The --grace-period option of coordinate must be an int in [11, 604800]" in out.err


def test_verify_of_an_unknown_table_is_a_usage_error(fuzz_dir):
    """`tables verify NAME` of no table exits 2 naming the known tables (it exited 1)."""
    out = run(["tables", "verify", "no-such-table"])
    check(out)
    assert out.code == 2
    assert "No table named or at 'no-such-table'" in out.err and "Known tables:" in out.err
