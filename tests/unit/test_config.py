"""Config validation, option parsing and the TOML round trip."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnn_tui.config import (
    ACTIVATIONS,
    DATASETS,
    DEVICES,
    INITS,
    OPTIMIZERS,
    ConfigError,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    dumps,
    format_option,
    load,
    loads,
    option_value,
    parse_option,
    save,
    validate,
    with_options,
)
from dnn_tui.model import build_mlp


def test_defaults_are_the_reference_model() -> None:
    config = validate(RunConfig())
    assert config.model.hidden == (100, 50, 20)
    assert (config.model.activation, config.model.init) == ("relu", "xavier")
    assert (config.train.optimizer, config.train.lr) == ("adam", 0.001)
    assert (config.train.batch_size, config.train.epochs) == (100, 20)
    assert config.train.clip_norm is None and config.train.l2 == 0.0
    assert config.data.dataset == "auto"


@pytest.mark.parametrize(
    ("options", "field", "rule"),
    [
        ({"lr": 0.0}, "lr", "> 0"),
        ({"lr": -1.0}, "lr", "> 0"),
        ({"lr": math.nan}, "lr", "finite"),
        ({"l2": math.inf}, "l2", "finite"),
        ({"l2": -0.1}, "l2", ">= 0"),
        ({"dropout": 1.0}, "dropout", "[0, 1)"),
        ({"dropout": -0.1}, "dropout", "[0, 1)"),
        ({"dropout": (0.1, 0.2)}, "dropout", "one value per hidden layer"),
        ({"hidden": (100, 0)}, "hidden", "from 1"),
        ({"hidden": (100, 2.5)}, "hidden", "integer"),
        ({"batch_size": 0}, "batch_size", "positive integer or 'full'"),
        ({"batch_size": "half"}, "batch_size", "positive integer or 'full'"),
        ({"epochs": 0}, "epochs", "from 1"),
        ({"activation": "swish"}, "activation", "one of"),
        ({"optimizer": "lion"}, "optimizer", "one of"),
        ({"init": "orthogonal"}, "init", "one of"),
        ({"dataset": "cifar"}, "dataset", "one of"),
        ({"dataset": "idx", "idx_images": "a"}, "idx_labels", "needs both files"),
        ({"init_std": 0.0}, "init_std", "> 0"),
        ({"clip_norm": 0.0}, "clip_norm", "> 0"),
        ({"clip_norm": -1.0}, "clip_norm", "> 0"),
        ({"early_stopping": -1}, "early_stopping", ">= 0"),
        ({"seed": -1}, "seed", "from 0"),
        ({"limit": -5}, "limit", ">= 0"),
        ({"device": "tpu"}, "device", "one of"),
    ],
)
def test_invalid_values_name_the_field_and_the_rule(options, field, rule) -> None:
    with pytest.raises(ConfigError) as error:
        validate(with_options(RunConfig(), options))
    assert field in str(error.value)
    assert rule in str(error.value)


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("hidden", "100, 50,20", (100, 50, 20)),
        ("hidden", "", ()),
        ("dropout", "0.2", 0.2),
        ("dropout", "0.2,0.2,0", (0.2, 0.2, 0.0)),
        ("batch_size", "full", "full"),
        ("batch_size", "32", 32),
        ("clip_norm", "off", None),
        ("clip_norm", "2.5", 2.5),
        ("batchnorm", "yes", True),
        ("lr", "1e-3", 0.001),
        ("data_dir", "", None),
        ("activation", "tanh", "tanh"),
    ],
)
def test_parse_option_reads_what_format_option_writes(name, text, value) -> None:
    assert parse_option(name, text) == value
    assert parse_option(name, format_option(value)) == value


@pytest.mark.parametrize(
    ("name", "text"), [("hidden", "10,x"), ("lr", "fast"), ("epochs", "2.5"), ("batchnorm", "?")]
)
def test_parse_option_rejects_bad_text(name: str, text: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name}: "):
        parse_option(name, text)


def test_toml_round_trip_is_exact(tmp_path: Path) -> None:
    config = validate(
        RunConfig(
            model=ModelConfig(hidden=(7, 5), dropout=(0.1, 0.0), batchnorm=True, init="normal"),
            data=DataConfig(dataset="idx", idx_images="i.gz", idx_labels="l.gz", limit=10),
            train=TrainConfig(batch_size="full", lr=0.1 + 0.2, clip_norm=0.3, early_stopping=2),
            preset="custom",
            description="a test",
        )
    )
    assert loads(dumps(config)) == config
    save(config, tmp_path / "c.toml")
    assert load(tmp_path / "c.toml") == config
    # Clipping off is an absent key, never a magic 0.
    assert "clip_norm" not in dumps(validate(RunConfig()))


def test_toml_errors_name_the_key_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[train]\nlr = "fast"\n')
    with pytest.raises(ConfigError, match=r"bad\.toml: lr: must be a number"):
        load(path)
    path.write_text("[train]\nlearning_rate = 0.1\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: train\.learning_rate: unknown key"):
        load(path)
    path.write_text("[train\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "missing.toml")


def test_with_options_sets_the_right_sections() -> None:
    config = with_options(RunConfig(), {"hidden": (3,), "lr": 0.5, "dataset": "digits"})
    assert option_value(config, "hidden") == (3,)
    assert config.train.lr == 0.5 and config.data.dataset == "digits"
    with pytest.raises(ConfigError, match="not a run option"):
        with_options(RunConfig(), {"speed": 1})


# --- the property: validate accepts a config whose model works, or says why not -------------

finite_or_not = st.one_of(
    st.floats(min_value=-1.0, max_value=1.0),
    st.sampled_from([0.0, math.nan, math.inf, -math.inf]),
    st.integers(min_value=-3, max_value=3),
    st.text(max_size=3),
    st.none(),
)
widths = st.one_of(st.integers(-2, 48), st.floats(0.5, 4.0), st.text(max_size=2))


def maybe(valid: st.SearchStrategy, invalid: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(valid, valid, valid, invalid)


configs = st.builds(
    RunConfig,
    model=st.builds(
        ModelConfig,
        hidden=maybe(st.lists(st.integers(1, 48), max_size=6), st.lists(widths, max_size=4)),
        activation=maybe(st.sampled_from(ACTIVATIONS), st.text(max_size=5)),
        init=maybe(st.sampled_from(INITS), st.text(max_size=5)),
        init_std=maybe(st.floats(1e-4, 1.0), finite_or_not),
        dropout=maybe(st.floats(0.0, 0.95), finite_or_not),
        batchnorm=maybe(st.booleans(), st.integers(0, 1)),
    ),
    data=st.builds(
        DataConfig,
        dataset=maybe(st.sampled_from(DATASETS), st.text(max_size=5)),
        limit=maybe(st.integers(0, 10**6), st.integers(-5, -1)),
    ),
    train=st.builds(
        TrainConfig,
        optimizer=maybe(st.sampled_from(OPTIMIZERS), st.text(max_size=5)),
        lr=maybe(st.floats(1e-6, 10.0), finite_or_not),
        batch_size=maybe(st.integers(1, 1000), st.one_of(st.just("full"), finite_or_not)),
        epochs=maybe(st.integers(1, 100), st.integers(-2, 0)),
        l2=maybe(st.floats(0.0, 1.0), finite_or_not),
        early_stopping=maybe(st.integers(0, 10), st.integers(-2, -1)),
        clip_norm=maybe(st.one_of(st.none(), st.floats(1e-3, 100.0)), finite_or_not),
        seed=maybe(st.integers(0, 2**32), st.integers(-5, -1)),
        device=maybe(st.sampled_from(DEVICES), st.text(max_size=4)),
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, input_dim=st.integers(1, 40), classes=st.integers(2, 12))
def test_validate_accepts_only_configs_whose_model_works(
    config: RunConfig, input_dim: int, classes: int
) -> None:
    try:
        valid = validate(config)
    except ConfigError:
        return
    model = build_mlp(valid.model, input_dim, classes)
    model.eval()  # BatchNorm in training mode needs more than one sample; eval never does
    with torch.no_grad():
        logits = model(torch.rand(5, input_dim))
    assert logits.shape == (5, classes)
    assert torch.isfinite(logits).all()
    assert loads(dumps(valid)) == valid


def test_validate_normalises_ints_to_floats() -> None:
    config = validate(replace(RunConfig(), train=TrainConfig(lr=1, l2=0)))  # type: ignore[arg-type]
    assert isinstance(config.train.lr, float) and isinstance(config.train.l2, float)
