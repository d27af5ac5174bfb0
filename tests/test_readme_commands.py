"""Every command the README shows runs: extracted from its code blocks, run at a small size.

Each ``predictor-nas ...`` command in a ``bash`` block of README.md is parsed by the real
argument parser and run (``predictor_nas.cli.main`` in-process; the coordinator and its workers
as real processes) in a temporary folder, with the journal there, after the explicit size
substitutions of ``TINY`` below; it must exit 0. ``../shared/data`` is replaced by the shared
data folder (tests skip when it is absent), ``postgresql://nas@db-host/nas`` by a fresh database
on a throwaway PostgreSQL server. Commands that need what this machine cannot have (CIFAR-10 on
disk and a CUDA device) are parsed only; ``SKIP`` says which and why. The Python blocks run as
written, and every ``python benchmarks/*.py`` / ``scripts/*.py`` the README names answers
``--help``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from predictor_nas.cli import build_parser, main

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
SHARED_DATA = Path(os.environ.get("PREDICTOR_NAS_SHARED_DATA", REPO.parent / "shared" / "data"))

#: Option -> value it is rewritten to (only where the README gives the option): small budgets,
#: seeds and epochs, so that every command runs in seconds.
TINY = {
    "--budget": "5",  # queries (search, compare, coordinate)
    "--seeds": "0-1",  # compare: two seeds
    "--jobs": "1",  # compare: one process
    "--time-budget": "20000",  # simulated training seconds (~11 NB201 cifar10 / 4 NB301 trainings)
    "--budget-seconds": "10",  # real training: wall seconds
    "--epochs": "2",  # real training: epochs per architecture (the curve pruner needs 2)
    "--top-k": "2",  # real training: architectures trained per round
}
#: Options added when a command does not give them (its default would be the large size).
ADD_IF_MISSING = {"compare": ["--budget", "5"]}
#: Text in a command -> why it is only parsed, not run.
SKIP = {
    "~/data": "needs CIFAR-10 on disk (~/data) and a CUDA device",
    "data_root=/data": "needs CIFAR-10 on disk (/data) and a CUDA device",
    "--evaluator train --dataset cifar10": "trains on CIFAR-10 (not on this machine) with its worker",
}
#: The README's PostgreSQL URL (a server the reader runs), replaced by a throwaway server's.
README_PG_URL = "postgresql://nas@db-host/nas"
#: Scripts the README names whose --help is not cheap: why.
SCRIPT_SKIP = {"scripts/gpu_smoke.py": "takes no options: running it is the GPU check itself"}


@dataclass
class Command:
    """One ``predictor-nas`` command of the README."""

    line: int  # 1-based line of README.md where its logical line starts
    argv: list[str]  # arguments after ``predictor-nas``, as written
    background: bool = False  # ended with '&' in the README
    tiny: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"L{self.line}-{'-'.join(a.lstrip('-') for a in self.argv[:2])}"


def _blocks(text: str) -> list[tuple[str, int, list[str]]]:
    """Fenced code blocks: (language, 1-based line of their first content line, lines)."""
    blocks, lang, start, body = [], None, 0, []
    for i, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            if lang is None:
                lang, start, body = line[3:].strip(), i + 1, []
            else:
                blocks.append((lang, start, body))
                lang = None
        elif lang is not None:
            body.append(line)
    return blocks


def _logical_lines(start: int, lines: list[str]) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined: (line number, text)."""
    out: list[tuple[int, str]] = []
    pending, at = "", start
    for i, line in enumerate(lines, start):
        if not pending:
            at = i
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append((at, pending + line))
        pending = ""
    return out


def readme_commands(text: str | None = None) -> list[Command]:
    """Every ``predictor-nas`` invocation in the README's bash blocks, in order."""
    text = README.read_text(encoding="utf-8") if text is None else text
    found = []
    for lang, start, lines in _blocks(text):
        if lang not in ("bash", "sh", "shell"):
            continue
        for lineno, line in _logical_lines(start, lines):
            code = " ".join(shlex.split(line, comments=True, posix=True))
            # split shell chains; remember which parts were sent to the background
            for part, sep in re.findall(r"(.*?)(&&|;|&(?!&)|\||$)", code):
                words = part.split()
                if words[:1] == ["do"]:
                    words = words[1:]
                if words[:1] == ["predictor-nas"]:
                    found.append(Command(lineno, words[1:], background=sep == "&"))
    return found


def _sized(cmd: Command, shared: Path) -> list[str]:
    """The command's argv with the TINY sizes, ADD_IF_MISSING options and the data path."""
    argv = []
    for i, a in enumerate(cmd.argv):
        prev = cmd.argv[i - 1] if i else ""
        if prev in TINY:
            a = TINY[prev]
        argv.append(a.replace("../shared/data", str(shared)))
    extra = ADD_IF_MISSING.get(argv[0], [])
    if extra and extra[0] not in argv:
        argv += extra
    return argv


def _skip_reason(cmd: Command) -> str | None:
    text = " ".join(cmd.argv)
    return next((why for what, why in SKIP.items() if what in text), None)


COMMANDS = readme_commands()
SINGLE = [c for c in COMMANDS if c.argv[0] not in ("coordinate", "worker")]
DISTRIBUTED = [c for c in COMMANDS if c.argv[0] in ("coordinate", "worker")]


def _groups() -> list[list[Command]]:
    """Coordinators with the workers that follow them on the same storage and study."""
    groups: list[list[Command]] = []
    for c in DISTRIBUTED:
        if c.argv[0] == "coordinate":
            groups.append([c])
        elif groups:
            groups[-1].append(c) if _key(groups[-1][0]) == _key(c) else groups.append([c])
    return groups


def _key(c: Command) -> tuple[str | None, str | None]:
    def opt(name: str) -> str | None:
        return c.argv[c.argv.index(name) + 1] if name in c.argv else None

    return opt("--storage"), opt("--study-name")


def _marks(cmds: list[Command]) -> list[pytest.MarkDecorator]:
    text = " ".join(" ".join(c.argv) for c in cmds)
    slow = any(
        s in text
        for s in ("../shared/data", "nb201-rich", "--evaluator train", "coordinate", "--jobs")
    )
    return [pytest.mark.slow] if slow else []


# --------------------------------------------------------------------------- the extraction
def test_readme_commands_are_found():
    """The extractor finds the README's commands, including chains, loops and continuations."""
    firsts = {" ".join(c.argv[:2]) for c in COMMANDS}
    assert len(COMMANDS) >= 20
    for want in (
        "search --dataset",
        "compare --space",
        "compare --table",
        "multifidelity --benchmark",
        "coordinate --storage",
        "worker --storage",
        "tables import",
        "tables verify",
    ):
        assert want in firsts, want
    quick = COMMANDS[0]
    assert quick.argv == "search --dataset cifar10 --strategy rea --budget 100 --seed 0".split()
    loop_workers = [c for c in DISTRIBUTED if c.argv == ["worker", "--storage", "search.journal"]]
    assert len(loop_workers) == 1 and loop_workers[0].background


def test_extractor_handles_shell_syntax():
    """Chains, '&', for-loops, comments and continuations give the right argv lists."""
    text = "\n".join(
        [
            "```bash",
            "pip install x && predictor-nas search --budget 3   # comment",
            "predictor-nas compare --a 1 \\",
            "    --b 2 &",
            "for i in 1 2; do predictor-nas worker --storage s.journal & done; wait",
            "```",
            "```python",
            "predictor-nas not-shell",
            "```",
        ]
    )
    got = [(c.line, c.argv, c.background) for c in readme_commands(text)]
    assert got == [
        (2, ["search", "--budget", "3"], False),
        (3, ["compare", "--a", "1", "--b", "2"], True),
        (5, ["worker", "--storage", "s.journal"], True),
    ]


@pytest.mark.parametrize("cmd", COMMANDS, ids=[c.id for c in COMMANDS])
def test_readme_command_parses(cmd):
    """Every README command, run or not, is accepted by the real argument parser as written."""
    args = build_parser().parse_args(cmd.argv)
    assert args.func is not None


# --------------------------------------------------------------------------- running them
def _prepare(cmd: list[Command], request, monkeypatch, tmp_path) -> Path:
    """Skip when the command needs what is absent; isolate the cache; return the data folder."""
    why = next((r for r in map(_skip_reason, cmd) if r), None)
    if why:
        pytest.skip(f"parsed only: {why}")
    text = " ".join(" ".join(c.argv) for c in cmd)
    needs_data = ("../shared/data", "nb201-rich", "nas-bench-macro")
    if any(t in text for t in needs_data) and not SHARED_DATA.is_dir():
        pytest.skip(f"shared benchmark data not found at {SHARED_DATA}")
    monkeypatch.chdir(tmp_path)
    if "--table nb201-rich" in text:
        request.getfixturevalue("rich_in_cache")  # the imported table, findable by name
    else:
        monkeypatch.setenv("PREDICTOR_NAS_CACHE", str(tmp_path / "cache"))
    if "--table nas-bench-macro" in text:  # imported by the README's line before
        from predictor_nas.tables.importers import IMPORTERS

        IMPORTERS["nas-bench-macro"](SHARED_DATA / "nas-bench-macro")
    return SHARED_DATA


@pytest.mark.parametrize("cmd", [pytest.param(c, marks=_marks([c]), id=c.id) for c in SINGLE])
def test_readme_command_runs(cmd, request, monkeypatch, tmp_path, capsys):
    """The command, at the TINY sizes, in a temp folder (journal there), exits 0."""
    shared = _prepare([cmd], request, monkeypatch, tmp_path)
    argv = _sized(cmd, shared)
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 0, f"predictor-nas {shlex.join(argv)} exited {rc}: {err}"


@pytest.mark.parametrize(
    "group",
    [pytest.param(g, marks=_marks(g), id=g[0].id) for g in _groups()],
)
def test_readme_distributed_commands_run(group, request, monkeypatch, tmp_path):
    """A coordinator and the workers the README starts on its storage all exit 0."""
    shared = _prepare(group, request, monkeypatch, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREDICTOR_NAS_CACHE": str(tmp_path / "cache")}
    url = (
        request.getfixturevalue("postgres_url")
        if any(README_PG_URL in c.argv for c in group)
        else None
    )
    procs = []
    for c in group:
        argv = [url if a == README_PG_URL else a for a in _sized(c, shared)]
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "predictor_nas.cli", *argv],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        results = [(p.args, *p.communicate(timeout=300), p.returncode) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for args, _out, err, rc in results:
        assert rc == 0, f"{shlex.join(args[2:])} exited {rc}: {err[-2000:]}"


# --------------------------------------------------------------------------- the rest
def test_quick_start_search_prints_what_the_readme_shows(monkeypatch, tmp_path, capsys):
    """The Quick start search, as written, prints the output block the README shows."""
    text = README.read_text(encoding="utf-8")
    shown = text.split("and prints:\n\n```\n", 1)[1].split("\n```", 1)[0]
    monkeypatch.chdir(tmp_path)
    assert main([*COMMANDS[0].argv, "--no-progress"]) == 0
    assert capsys.readouterr().out.strip() == shown.strip()


PYTHON_BLOCKS = [
    (start, "\n".join(body))
    for lang, start, body in _blocks(README.read_text())
    if lang == "python"
]


@pytest.mark.parametrize(
    "code", [b for _, b in PYTHON_BLOCKS], ids=[f"L{s}" for s, _ in PYTHON_BLOCKS]
)
def test_readme_python_block_runs(code, monkeypatch, tmp_path, capsys):
    """Each Python block of the README runs as written."""
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})


SCRIPTS = sorted(set(re.findall(r"python ((?:benchmarks|scripts)/[\w/]+\.py)", README.read_text())))


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_readme_scripts_answer_help(script):
    """Every benchmark or script the README tells to run exists and answers --help."""
    assert (REPO / script).is_file()
    if script in SCRIPT_SKIP:
        pytest.skip(SCRIPT_SKIP[script])
    proc = subprocess.run(
        [sys.executable, script, "--help"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "usage:" in proc.stdout
