"""TrainConfig: the one set of training defaults, its checks, and who reads it."""

from __future__ import annotations

import inspect

import pytest

from predictor_nas.cli import build_parser
from predictor_nas.evaluators import TrainEvaluator
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.search import run_real_search
from predictor_nas.training import TrainConfig, train, train_final

DEFAULTS = TrainConfig()


def test_defaults_are_the_documented_small_recipe():
    """The defaults are search --evaluator train's README recipe: width 8, 1 cell, 4 epochs."""
    assert DEFAULTS.to_dict() == {
        "width": 8, "depth": 1, "epochs": 4, "batch_size": 64, "lr": 0.1, "weight_decay": 5e-4,
    }  # fmt: skip
    assert TrainConfig.field_names() == tuple(DEFAULTS.to_dict())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "The 'epochs' parameter of TrainConfig must be an int >= 1. Got 0 instead."),
        ({"width": 2.5}, "The 'width' parameter of TrainConfig must be an int >= 1. Got 2.5 instead."),
        ({"depth": True}, "The 'depth' parameter of TrainConfig must be an int >= 1. Got True instead."),
        ({"lr": 0.0}, "The 'lr' parameter of TrainConfig must be a finite float > 0.0. Got 0.0 instead."),
        ({"weight_decay": -1e-4},
         "The 'weight_decay' parameter of TrainConfig must be a finite float >= 0.0. Got -0.0001 instead."),
    ],
)  # fmt: skip
def test_bad_values_are_refused_with_the_standard_message(kwargs, message):
    """Each field is checked when the config is built, with the standard message."""
    with pytest.raises(InvalidParameterError) as exc:
        TrainConfig(**kwargs)
    assert str(exc.value) == message


def test_from_options_overrides_names_the_owner_and_keeps_none_as_default():
    """from_options: given values override, None keeps the default, errors name the owner."""
    c = TrainConfig.from_options({"epochs": 12, "width": None, "device": "cpu"}, "x")
    assert (c.epochs, c.width, c.lr) == (12, 8, 0.1)
    assert isinstance(TrainConfig.from_options({"lr": 1}).lr, float)
    with pytest.raises(InvalidParameterError, match=r"'epochs' parameter of the owner must be an "
                       r"int >= 1\. Got -1 instead"):  # fmt: skip
        TrainConfig.from_options({"epochs": -1}, "the owner")
    with pytest.raises(AttributeError):
        DEFAULTS.epochs = 3  # frozen


def test_every_entry_point_takes_its_defaults_from_train_config():
    """run_real_search, train and train_final default to TrainConfig's values; TrainEvaluator
    takes the recipe as TrainConfig fields (no defaults of its own)."""
    d = DEFAULTS.to_dict()
    ev = inspect.signature(TrainEvaluator).parameters
    rs = inspect.signature(run_real_search).parameters
    assert ev["recipe"].kind is inspect.Parameter.VAR_KEYWORD
    for name, value in d.items():
        assert name not in ev and rs[name].default == value, name
    tr = inspect.signature(train).parameters
    for name in ("batch_size", "lr", "weight_decay"):
        assert tr[name].default == d[name]
    fin = inspect.signature(train_final).parameters
    assert all(fin[n].default is None for n in ("epochs", "batch_size", "lr", "weight_decay"))


def test_cli_defaults_and_help_come_from_train_config():
    """predictor-nas train parses to TrainConfig's epochs/batch/lr; search's help quotes them."""
    parser = build_parser()
    args = parser.parse_args(["train", "--space", "nb201", "--arch", "a", "--out", "o"])
    assert (args.epochs, args.batch_size, args.lr) == (
        DEFAULTS.epochs, DEFAULTS.batch_size, DEFAULTS.lr
    )
    sub = next(a for a in parser._actions if a.dest == "command").choices
    helps = {a.dest: a.help for a in sub["search"]._actions}
    assert helps["epochs"] == f"epochs per arch ({DEFAULTS.epochs})"
    assert helps["width"].startswith(f"channels of stage 1 ({DEFAULTS.width};")
    assert helps["depth"].startswith(f"cells per stage ({DEFAULTS.depth};")
    args = parser.parse_args(["search", "--evaluator", "train"])
    assert args.epochs is None  # resolved from TrainConfig by the command


def test_train_evaluator_checks_through_train_config():
    """TrainEvaluator's recipe is a TrainConfig; bad values name TrainEvaluator."""
    from predictor_nas.training import load_digits_data

    data = load_digits_data(0)
    ev = TrainEvaluator(data, epochs=2)
    assert ev.train_config == TrainConfig(epochs=2)
    assert (ev.width, ev.depth, ev.epochs) == (8, 1, 2)
    with pytest.raises(InvalidParameterError, match=r"'epochs' parameter of TrainEvaluator must be"):
        TrainEvaluator(data, epochs=0)
    assert TrainEvaluator(data).train_config == DEFAULTS


def test_train_evaluator_refuses_a_name_that_is_no_recipe_field():
    """An unknown keyword of TrainEvaluator names it and lists the TrainConfig fields."""
    from predictor_nas.training import load_digits_data

    with pytest.raises(InvalidParameterError, match=r"unknown argument\(s\) 'epoch'.*width, depth"):
        TrainEvaluator(load_digits_data(0), epoch=3)
