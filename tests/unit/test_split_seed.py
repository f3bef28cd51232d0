"""The split seed: which samples are train, validation and test, apart from the training seed,
and config files written before it existed, which split by their training seed."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from dnn_tui.config import (
    ConfigError,
    DataConfig,
    RunConfig,
    TrainConfig,
    dumps,
    format_option,
    loads,
    option_value,
    parse_option,
    validate,
    with_options,
)
from dnn_tui.data import load_data

DIGITS = RunConfig(data=DataConfig("digits", limit=200))


def test_two_training_seeds_share_their_split() -> None:
    first = load_data(replace(DIGITS, train=TrainConfig(seed=1)))
    second = load_data(replace(DIGITS, train=TrainConfig(seed=2)))
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert torch.equal(getattr(first, name), getattr(second, name)), name
    assert first.info()["split_seed"] == second.info()["split_seed"] == 0


def test_another_split_seed_is_another_test_split() -> None:
    other = load_data(with_options(DIGITS, {"split_seed": 1}))
    assert not torch.equal(load_data(DIGITS).x_test, other.x_test)
    assert other.info()["split_seed"] == 1


def test_a_config_without_split_seed_splits_by_its_training_seed() -> None:
    old = loads('[data]\ndataset = "digits"\n[train]\nseed = 7\n')
    assert (old.data.split_seed, old.train.seed) == (7, 7)
    assert loads('[data]\ndataset = "digits"\n').data.split_seed == 0


def test_an_explicit_split_seed_is_kept_whatever_the_training_seed() -> None:
    config = loads("[data]\nsplit_seed = 0\n[train]\nseed = 7\n")
    assert (config.data.split_seed, config.train.seed) == (0, 7)


def test_option_config_and_toml_round_trip() -> None:
    config = validate(with_options(RunConfig(), {"split_seed": parse_option("split_seed", "12")}))
    assert option_value(config, "split_seed") == 12
    assert format_option(option_value(config, "split_seed")) == "12"
    text = dumps(config)
    assert "split_seed = 12" in text
    assert loads(text) == config
    # A new config always writes the key, so reading it back never falls to train.seed.
    seeded = validate(with_options(RunConfig(), {"seed": 5}))
    assert "split_seed = 0" in dumps(seeded) and loads(dumps(seeded)) == seeded


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("split_seed = -1", "split_seed: must be an integer from 0 to 2**63 - 1, got -1"),
        ('split_seed = "3"', "split_seed: must be an integer, got '3'"),
        ("split_seed = true", "split_seed: must be an integer, got True"),
        ("split_seed = 1.5", "split_seed: must be an integer, got 1.5"),
    ],
)
def test_a_bad_split_seed_is_refused_by_name(text: str, rule: str) -> None:
    with pytest.raises(ConfigError) as caught:
        loads(f"[data]\n{text}\n", "run.toml")
    assert str(caught.value) == f"run.toml: {rule}"


def test_the_option_text_is_an_integer() -> None:
    with pytest.raises(ConfigError, match="split_seed: must be an integer, got 'x'"):
        parse_option("split_seed", "x")
