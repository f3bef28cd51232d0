"""The option table: every run option in it reaches argparse and config parsing, and the
"used only when" rule is the one the CLI refuses options by. (The form's side is in
tests/app/test_form.py.)"""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import get_args

import pytest

from dnn_tui.commands.options import (
    RUN_OPTIONS,
    UsageError,
    add_run_options,
    config_from_args,
    flag,
)
from dnn_tui.config import (
    OPTION_SECTION,
    SECTIONS,
    RunConfig,
    format_option,
    option_value,
    parse_option,
    unused_options,
    validate,
    with_options,
)
from dnn_tui.options import OPTIONS, OPTIONS_BY_NAME, Option, Syntax, UsedWhen


def test_the_table_holds_every_field_of_the_sections_once() -> None:
    names = [option.name for option in OPTIONS]
    assert len(names) == len(set(names)) == len(OPTIONS_BY_NAME)
    stored = {f.name: section for section, cls in SECTIONS.items() for f in fields(cls)}
    assert {option.name: option.section for option in OPTIONS} == stored
    assert stored == OPTION_SECTION
    assert list(OPTION_SECTION) == list(stored)  # sweep errors list the known keys this way


def test_every_kind_and_syntax_is_used_consistently() -> None:
    assert {option.syntax for option in OPTIONS} == set(get_args(Syntax))
    for option in OPTIONS:
        assert option.label and option.help, option.name
        assert (option.kind == "choice") == bool(option.choices) == (option.syntax == "word")
        assert (option.kind == "switch") == (option.metavar == "")
        if option.kind == "choice":
            assert option.metavar == "{" + ",".join(option.choices) + "}"
        if option.hint:
            assert option.kind == "text", option.name


def test_the_deciding_option_is_a_choice_with_those_values() -> None:
    decided = {o.name: o.used_when for o in OPTIONS if o.used_when is not None}
    assert set(decided) == {
        "data_dir",
        "idx_images",
        "idx_labels",
        "init_std",
        "step_size",
        "gamma",
        "plateau_patience",
    }
    for used_when in decided.values():
        deciding = OPTIONS_BY_NAME[used_when.option]
        assert deciding.kind == "choice"
        assert set(used_when.values) < set(deciding.choices)


def test_why_unused_names_the_deciding_value() -> None:
    rule = UsedWhen("init", ("normal",), "only used by init normal")
    assert rule.why_unused("normal") is None
    assert rule.why_unused("he") == "only used by init normal (the init is he)"


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_parse_option_reads_every_option_back(option: Option) -> None:
    """Each option's default, written as text, reads back as that default."""
    default = option_value(validate(RunConfig()), option.name)
    assert parse_option(option.name, format_option(default)) == default


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(prog="dnn-tui train")
    add_run_options(built)
    return built


def test_every_option_is_a_command_line_option_with_its_metavar_and_help() -> None:
    assert tuple(option.name for option in OPTIONS) == RUN_OPTIONS
    actions = {action.dest: action for action in parser()._actions}
    for option in OPTIONS:
        action = actions[option.name]
        assert action.option_strings[0] == flag(option.name)
        assert action.help is not None and action.help.startswith(option.help)
        if option.kind == "switch":
            assert isinstance(action, argparse.BooleanOptionalAction)
        else:
            assert action.metavar == option.metavar
            assert action.help.endswith(")") and "(default: " in action.help


def cli_refusal(*args: str) -> str | None:
    """The usage error ``train`` gives for these options, or None when it takes them."""
    try:
        config_from_args(parser().parse_args(list(args)), warn=lambda text: None)
    except UsageError as error:
        return str(error)
    return None


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ({"dataset": "moons", "data_dir": "cache"}, "data_dir"),
        ({"dataset": "kmnist", "data_dir": "cache"}, "data_dir"),
        ({"data_dir": "cache"}, "data_dir"),
        ({"dataset": "digits", "idx_images": "i.gz"}, "idx_images"),
        ({"dataset": "idx", "idx_images": "i.gz", "idx_labels": "l.gz"}, "idx_labels"),
        ({"idx_labels": "l.gz"}, "idx_labels"),
        ({"init": "he", "init_std": "0.1"}, "init_std"),
        ({"init": "normal", "init_std": "0.1"}, "init_std"),
        ({"init_std": "0.1"}, "init_std"),
    ],
)
def test_the_cli_refuses_exactly_what_the_table_rules_out(given: dict[str, str], name: str) -> None:
    config = validate(with_options(RunConfig(), {k: parse_option(k, v) for k, v in given.items()}))
    rule = OPTIONS_BY_NAME[name].used_when
    assert rule is not None
    why = rule.why_unused(option_value(config, rule.option))
    assert unused_options(config).get(name) == why
    expected = None if why is None else f"--{name.replace('_', '-')}: {why}"
    args = [text for key, value in given.items() for text in (flag(key), value)]
    assert cli_refusal(*args) == expected
