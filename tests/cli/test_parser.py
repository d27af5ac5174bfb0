"""The parser as a whole: help pages that render (light imports: tests/test_import_light.py)."""

from __future__ import annotations

import argparse


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                yield from ((f"{name} {n}", s) for n, s in _subparsers(sub))


def test_every_help_text_renders_without_format_escapes():
    """Every command's --help renders, with no leftover '%%' or '%(' from argparse formatting."""
    from predictor_nas.cli import build_parser

    parser = build_parser()
    pages = [("predictor-nas", parser), *_subparsers(parser)]
    assert len(pages) > 10
    for name, p in pages:
        text = p.format_help()
        assert "%%" not in text and "%(" not in text, name


def _option(parser, path, dest):
    """The action ``dest`` of the subcommand at ``path`` (e.g. ["tables", "import"])."""
    import argparse

    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return next(a for a in parser._actions if a.dest == dest)


def test_choice_lists_come_from_the_library_registries(monkeypatch):
    """A new importer, import format, mf benchmark, search evaluator or predictor needs no CLI edit."""
    import predictor_nas.multifidelity as mf
    import predictor_nas.predictors as predictors
    import predictor_nas.search as search
    import predictor_nas.tables.importers as importers
    from predictor_nas.cli import build_parser

    p = build_parser()
    assert _option(p, ["tables", "import"], "kind").choices == ["file", *importers.IMPORTERS]
    assert _option(p, ["tables", "import"], "format").choices == list(importers.FORMATS)
    assert _option(p, ["multifidelity"], "benchmark").choices == list(mf.BENCHMARKS)
    assert _option(p, ["search"], "evaluator").choices == list(search.SEARCH_EVALUATORS)
    monkeypatch.setitem(importers.IMPORTERS, "my-bench", importers.IMPORTERS["nb201-rich"])
    monkeypatch.setattr(importers, "FORMATS", (*importers.FORMATS, "feather"))
    monkeypatch.setitem(mf.BENCHMARKS, "nb999", mf.TableFidelityEvaluator)
    monkeypatch.setitem(search.SEARCH_EVALUATORS, "surrogate", "query a surrogate")
    monkeypatch.setitem(predictors.PREDICTORS, "my-predictor", predictors.PREDICTORS["ridge"])
    p = build_parser()
    assert "my-bench" in _option(p, ["tables", "import"], "kind").choices
    assert "feather" in _option(p, ["tables", "import"], "format").choices
    assert "nb999" in _option(p, ["multifidelity"], "benchmark").choices
    assert "surrogate" in _option(p, ["search"], "evaluator").choices
    assert "my-predictor" in _option(p, ["predictors", "evaluate"], "predictors").help
    args = p.parse_args(["tables", "import", "my-bench", "--source", "x"])
    assert args.kind == "my-bench"


def test_json_is_declared_in_one_place():
    """Every --json option of every command comes from the one shared helper (same help text)."""
    from predictor_nas.cli import build_parser

    parser = build_parser()
    helps = {
        a.help
        for _, p in _subparsers(parser)
        for a in p._actions
        if "--json" in a.option_strings
    }
    assert helps == {"print one JSON object on stdout"}
