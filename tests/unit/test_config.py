"""Config validation, option parsing and the TOML round trip."""

from __future__ import annotations

import math
import os
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
    FLOAT32_MAX,
    INITS,
    OPTIMIZERS,
    OPTION_SECTION,
    ConfigError,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    dumps,
    format_hidden,
    format_option,
    load,
    loads,
    notices,
    option_value,
    parse_option,
    save,
    shorten,
    shorten_path,
    unused_options,
    validate,
    with_options,
)
from dnn_tui.model import build_mlp
from dnn_tui.training.controls import RunControls


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
        ({"early_stopping": -1}, "early_stopping", "from 0"),
        ({"seed": -1}, "seed", "from 0"),
        ({"limit": -5}, "limit", "from 0"),
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
    ("text", "widths", "written"),
    [
        ("64x10", (64,) * 10, "64x10"),
        ("256, 128,64X3", (256, 128, 64, 64, 64), "256,128,64x3"),
        ("100,50,20", (100, 50, 20), "100,50,20"),
        ("8,8,3", (8, 8, 3), "8,8,3"),
        ("", (), ""),
    ],
)
def test_hidden_widths_repeat_with_x(text: str, widths: tuple[int, ...], written: str) -> None:
    assert parse_option("hidden", text) == widths
    assert format_hidden(widths) == written
    assert parse_option("hidden", written) == widths


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("hidden", "10,x"),
        ("hidden", "64x"),
        ("hidden", "64x0"),
        ("hidden", "x3"),
        ("hidden", "1x40"),
        ("lr", "fast"),
        ("epochs", "2.5"),
        ("batchnorm", "?"),
    ],
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


# --- option text: ASCII numbers, the option named, the value shortened ----------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("hidden", "²"),  # str.isdigit() takes superscripts; int() refuses them
        ("hidden", "100,²"),
        ("hidden", "١٠٠"),  # Arabic-Indic digits: int() takes them, nobody means them
        ("hidden", "１００"),  # fullwidth digits
        ("epochs", "³"),
        ("seed", "1_000"),
        ("lr", "١.٥"),
        ("l2", "0x10"),
        ("dropout", "0.1,½"),
    ],
)
def test_numbers_are_ascii_digits_and_errors_name_the_option(name: str, text: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name}: must be ") as caught:
        parse_option(name, text)
    assert text.split(",")[-1] in str(caught.value)  # the part at fault, echoed


@pytest.mark.parametrize("name", ["hidden", "epochs", "seed", "limit", "lr", "clip_norm"])
def test_a_5000_digit_number_names_the_option(name: str) -> None:
    """Python's int() refuses more than 4300 digits with a message that names no option."""
    with pytest.raises(ConfigError) as caught:
        parse_option(name, "9" * 5000)
    message = str(caught.value)
    assert message.startswith(f"{name}: 5000 characters is too long for a number (at most 64)")
    assert len(message) < 150 and "… (5000 characters)" in message


@pytest.mark.parametrize("name", sorted(OPTION_SECTION))
def test_a_100000_character_value_is_echoed_shortened(name: str) -> None:
    text = "x" * 100_000
    with pytest.raises(ConfigError) as caught:
        validate(with_options(RunConfig(), {name: parse_option(name, text)}))
        if name in ("idx_images", "idx_labels", "data_dir"):  # paths are read, not judged
            raise ConfigError(f"{name}: path accepted")
    message = str(caught.value)
    assert message.startswith(f"{name}: ") and len(message) < 200, message


def test_shorten_keeps_short_values_and_cuts_long_ones() -> None:
    assert shorten("abc") == "'abc'"
    assert shorten("y" * 100) == "'" + "y" * 38 + "… (100 characters)"
    assert shorten(10**5000) == "an integer of about 5001 digits"  # str() would raise
    assert shorten_path("/a/b") == "/a/b"
    long_path = "/" + "d" * 500 + "/images.gz"
    assert len(shorten_path(long_path)) == 199 and shorten_path(long_path).endswith("images.gz")


def test_batch_size_full_is_one_rule_for_the_cli_the_form_and_toml(tmp_path: Path) -> None:
    """Any letter case of "full", wherever it is written; anything else is refused by name."""
    for text in ("full", "FULL", "Full"):
        assert parse_option("batch_size", text) == "full"
        assert validate(with_options(RunConfig(), {"batch_size": text})).train.batch_size == "full"
        assert loads(f'[train]\nbatch_size = "{text}"\n').train.batch_size == "full"
    for bad in ("fully", "half", " full"):
        with pytest.raises(ConfigError, match=r"^batch_size: must be a positive integer or 'full'"):
            validate(with_options(RunConfig(), {"batch_size": bad}))
        with pytest.raises(ConfigError, match=r"^config: batch_size: must be a positive integer"):
            loads(f'[train]\nbatch_size = "{bad}"\n')


# --- settings that cannot train are refused up front ----------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"lr": 1e39}, "lr: the learning rate must be at most 3.403e+38 (the largest float32)"),
        ({"lr": 1e-50}, "lr: the learning rate must be at least 1.175e-38 (smaller values are 0"),
        ({"l2": 1e39}, "l2: must be at most 3.403e+38"),
        ({"l2": 1e-45}, "l2: must be at least 1.175e-38"),
        ({"init_std": 1e39}, "init_std: must be at most 3.403e+38"),
        ({"init_std": 1e-40}, "init_std: must be at least 1.175e-38"),
        ({"clip_norm": 1e39}, "clip_norm: must be at most 3.403e+38"),
        ({"clip_norm": 1e-39}, "clip_norm: must be at least 1.175e-38"),
        ({"lr": 10**400}, "lr: must be a finite number, got an integer of about 401 digits"),
        ({"seed": 2**63}, "seed: must be an integer from 0 to 2**63 - 1, got 9223372036854775808"),
        ({"epochs": 10**6}, "epochs: must be an integer from 1 to 100000"),
        ({"early_stopping": 10**6}, "early_stopping: must be an integer from 0 to 100000"),
        ({"limit": 10**30}, "limit: must be an integer from 0 to 2**63 - 1"),
        ({"batch_size": 2**64}, "batch_size: must be a positive integer or 'full'"),
        ({"seed": 10**5000}, "seed: must be an integer from 0 to 2**63 - 1, got an integer of"),
    ],
)
def test_settings_beyond_what_pytorch_takes_are_refused(options, message) -> None:
    with pytest.raises(ConfigError) as caught:
        validate(with_options(RunConfig(), options))
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop"])
def test_the_float32_limit_is_where_pytorch_overflows(optimizer: str) -> None:
    """The oracle is PyTorch itself: the largest lr validate() takes steps; the next larger
    double fails in the optimizer with the overflow message of the issue."""
    from dnn_tui.training.engine import make_optimizer

    def step(lr: float) -> None:
        weight = torch.nn.Parameter(torch.ones(3))
        weight.grad = torch.ones(3)
        make_optimizer(optimizer, [weight], lr).step()

    largest = validate(with_options(RunConfig(), {"lr": FLOAT32_MAX, "optimizer": optimizer}))
    step(largest.train.lr)
    beyond = math.nextafter(FLOAT32_MAX, math.inf)
    with pytest.raises(RuntimeError, match="cannot be converted to type float without overflow"):
        step(beyond)
    with pytest.raises(ConfigError, match=r"^lr: the learning rate must be at most"):
        validate(with_options(RunConfig(), {"lr": beyond}))


def test_a_running_job_takes_only_what_validate_takes() -> None:
    """RunControls (what the dashboard changes mid-run) share validate()'s rules."""
    controls = RunControls(clip_norm=2e38, lr=0.1)
    for value in (1e39, 1e-50, 0.0, math.nan, math.inf):
        with pytest.raises(ConfigError) as by_controls:
            controls.set_lr(value)
        with pytest.raises(ConfigError) as by_validate:
            validate(with_options(RunConfig(), {"lr": value}))
        assert str(by_controls.value) == str(by_validate.value)
    with pytest.raises(ConfigError, match=r"^clip_norm: must be at most 3\.403e"):
        controls.scale_clip_norm(2.0)  # 4e38: past float32
    with pytest.raises(ConfigError, match=r"^clip_norm: must be at least 1\.175e"):
        controls.set_clip_norm(1e-40)
    assert (controls.lr, controls.clip_norm) == (0.1, 2e38)
    assert controls.take_changes() == []  # nothing refused reaches the engine
    controls.set_lr(FLOAT32_MAX)
    assert controls.take_changes() == [("lr", FLOAT32_MAX)]


# --- options given for nothing ------------------------------------------------------------


def test_unused_options_name_the_setting_that_decides() -> None:
    config = validate(
        with_options(
            RunConfig(),
            {"dataset": "moons", "idx_images": "i", "data_dir": "d", "init": "he"},
        )
    )
    assert unused_options(config) == {
        "idx_images": "only read with dataset idx (the dataset is moons)",
        "data_dir": (
            "only read by datasets auto, mnist, fashion-mnist, kmnist (the dataset is moons)"
        ),
        "init_std": "only used by init normal (the init is he)",
        "step_size": "only used by schedule step (the schedule is none)",
        "gamma": "only used by schedules step, plateau (the schedule is none)",
        "plateau_patience": "only used by schedule plateau (the schedule is none)",
    }
    used = validate(
        with_options(
            RunConfig(),
            {"dataset": "idx", "idx_images": "i", "idx_labels": "l", "init": "normal"},
        )
    )
    no_schedule = {"step_size", "gamma", "plateau_patience"}
    assert set(unused_options(used)) == no_schedule
    assert set(unused_options(validate(with_options(RunConfig(), {"init": "normal"})))) == (
        no_schedule
    )


def test_a_patience_that_cannot_stop_the_run_is_noticed() -> None:
    assert notices(validate(with_options(RunConfig(), {"early_stopping": 3, "epochs": 4}))) == []
    assert notices(validate(with_options(RunConfig(), {"early_stopping": 0, "epochs": 1}))) == []
    assert notices(validate(with_options(RunConfig(), {"early_stopping": 5, "epochs": 5}))) == [
        "early_stopping: a patience of 5 never stops a run of 5 epochs "
        "(the best weights are restored anyway)"
    ]


# --- config files that are not what they claim --------------------------------------------


def test_toml_numbers_and_nesting_beyond_the_parser_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[train]\nepochs = 3\nseed = " + "9" * 5000 + "\n")
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value) == f"{path}: not valid TOML: a number too long to read (at line 3)"
    path.write_text("[model]\nhidden = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=r"c\.toml: not valid TOML: arrays or tables nested"):
        load(path)
    path.write_text('[train]\nlr = 1e39\noptimizer = "sgd"\n')
    with pytest.raises(ConfigError, match=r"c\.toml: lr: the learning rate must be at most"):
        load(path)


def test_toml_keys_and_values_are_echoed_shortened(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[train]\n{'k' * 100_000} = 1\n")
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: train.'kkkk")
    assert len(str(caught.value)) < 400
    path.write_text(f'[model]\nactivation = "{"a" * 100_000}"\n')
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: activation: must be one of")
    assert len(str(caught.value)) < 400
    path.write_text('["a\\nb"]\nx = 1\n')
    with pytest.raises(ConfigError, match=r"c\.toml: 'a\\nb': unknown key"):
        load(path)


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: os.mkfifo(p), "a FIFO, not a regular file; a config file is a TOML file"),
        (lambda p: p.mkdir(), "a directory, not a regular file"),
        (lambda p: p.symlink_to("/dev/zero"), "a character device, not a regular file"),
        (lambda p: p.write_bytes(b"#" * (2 << 20)), "2,097,152 bytes, more than the 1,048,576"),
        (lambda p: p.write_bytes(b"\xff\xfe[train]"), "not a UTF-8 text file"),
    ],
)
def test_a_config_path_that_is_no_toml_file_is_refused_without_hanging(
    tmp_path: Path, make, problem: str
) -> None:
    """A FIFO would block the read and /dev/zero would never end it."""
    path = tmp_path / "c.toml"
    make(path)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: {problem}")
