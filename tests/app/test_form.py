"""The config form: validated as the user types with the CLI's rules; nothing typed is lost."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import Input, Label, Select, Static, Switch

from dnn_tui.app.app import DnnApp
from dnn_tui.app.messages import EngineReported
from dnn_tui.app.widgets.config_form import ConfigForm
from dnn_tui.cli import build_parser
from dnn_tui.commands.options import UsageError, config_from_args, flag
from dnn_tui.config import (
    ConfigError,
    DataConfig,
    ModelConfig,
    RunConfig,
    load,
    parse_option,
    validate,
    with_options,
)
from dnn_tui.options import OPTIONS, SCHEDULES
from dnn_tui.training.events import ControlApplied
from tests.helpers.app import TINY, Notes, label_text, wait_until


async def test_invalid_field_blocks_start_and_keeps_the_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.lab.config_form
        field = form.query_one("#field-lr", Input)
        field.focus()
        field.clear()
        await pilot.press(*"-0.5")
        assert field.has_class("-invalid")
        assert label_text(pilot, "#error-lr").startswith("lr: the learning rate must be > 0")

        await pilot.press("r")  # typed into the field, not a start
        assert field.value == "-0.5r"
        await pilot.press("backspace", "ctrl+r")  # ctrl+r works while typing: refused
        assert app.lab.run_id == 0 and not app.running
        assert list(tmp_path.iterdir()) == []
        assert notes.seen[-1][0] == "Not started: invalid setting"
        assert notes.seen[-1][1].startswith("lr:")
        assert field.value == "-0.5"
        assert app.focused is field

        field.clear()
        await pilot.press(*"0.02")
        assert not field.has_class("-invalid")
        assert form.validated_config().train.lr == 0.02


async def test_every_rule_of_the_cli_applies(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.lab.config_form
        cases = {
            "hidden": ("100,x", "hidden: must be comma-separated positive integers"),
            "dropout": ("0.1,0.2,0.3", "dropout: a list needs one value per hidden layer (2)"),
            "batch_size": ("0", "batch_size: must be a positive integer or 'full'"),
            "epochs": ("1.5", "epochs: must be an integer"),
            "l2": ("-1", "l2: must be >= 0"),
            "seed": ("nan", "seed: must be an integer"),
        }
        for name, (text, rule) in cases.items():
            field = form.query_one(f"#field-{name}", Input)
            original = field.value
            field.value = text
            await pilot.pause()
            assert form.errors[name].startswith(rule), name
            assert label_text(pilot, f"#error-{name}").startswith(rule)
            with pytest.raises(ConfigError):
                form.validated_config()
            field.value = original
            await pilot.pause()
            assert name not in form.errors

        # The same text the CLI accepts gives the same config.
        form.query_one("#field-batch_size", Input).value = "full"
        form.query_one("#field-dropout", Input).value = "0.2,0"
        await pilot.pause()
        expected = validate(
            with_options(TINY, {"batch_size": "full", "dropout": parse_option("dropout", "0.2,0")})
        )
        assert form.validated_config() == expected

        # Clipping on needs a threshold; off, the threshold text is kept but ignored.
        form.query_one("#field-clipping", Switch).value = True
        form.query_one("#field-clip_norm", Input).value = ""
        await pilot.pause()
        assert "clip_norm" in form.errors
        form.query_one("#field-clip_norm", Input).value = "2.5"
        await pilot.pause()
        assert form.validated_config().train.clip_norm == 2.5
        form.query_one("#field-clipping", Switch).value = False
        await pilot.pause()
        assert form.validated_config().train.clip_norm is None
        assert form.query_one("#field-clip_norm", Input).value == "2.5"


async def test_preset_loads_model_and_training_keeps_dataset(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.query_one(ConfigForm)
        form.query_one("#field-preset", Select).value = "deep-sigmoid"
        await pilot.pause()
        config = form.validated_config()
        assert config.preset == "deep-sigmoid"
        assert config.model == ModelConfig(hidden=(64,) * 10, activation="sigmoid", init="default")
        assert config.data == TINY.data  # the dataset (and its limit) stay
        assert form.query_one("#field-hidden", Input).value == "64x10"  # ten layers of 64


async def test_escape_leaves_an_input_so_keys_act_again(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        field = app.lab.query_one("#field-seed", Input)
        field.focus()
        await pilot.press("end", "question_mark")
        assert field.value == "0?"  # typed, not the help key
        await pilot.press("backspace", "escape")
        assert app.focused is None
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert app.screen is app.lab


async def test_the_config_it_was_started_with_is_kept(tmp_path: Path) -> None:
    # As `dnn-tui tui --preset baseline --lr 0.01 --dataset digits` passes it.
    from dnn_tui.presets import load_preset

    preset = load_preset("baseline")
    config = validate(with_options(preset, {"lr": 0.01, "dataset": "digits", "epochs": 3}))
    app = DnnApp(config, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        form = app.lab.config_form
        picker = form.query_one("#field-preset", Select)
        # A learning rate and epochs of its own: an edit of the baseline, not the baseline.
        assert picker.value is Select.NULL and picker.prompt == "baseline (edited)"
        assert form.validated_config() == replace(config, preset="baseline (edited)")


async def test_the_form_shows_the_rules_for_hostile_text(tmp_path: Path) -> None:
    """The issue's examples and other members of their classes, typed into the form: each
    field shows its rule, naming the option, with the text shortened."""
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.lab.config_form
        cases = {
            "hidden": ("²", "hidden: must be comma-separated positive integers like 100,50,20"),
            "epochs": ("9" * 5000, "epochs: 5000 characters is too long for a number"),
            "seed": ("١٠", "seed: must be an integer, got '١٠'"),
            "lr": ("1e39", "lr: the learning rate must be at most 3.403e+38 (the largest float32)"),
            "l2": ("1e-45", "l2: must be at least 1.175e-38 (smaller values are 0 in float32)"),
            "dropout": ("x" * 100_000, "dropout: must be a number, got 'xxxxxxxx"),
        }
        for name, (text, rule) in cases.items():
            field = form.query_one(f"#field-{name}", Input)
            original = field.value
            field.value = text
            await pilot.pause()
            shown = label_text(pilot, f"#error-{name}")
            assert shown.startswith(rule), (name, shown)
            assert len(shown) < 150
            assert field.value == text  # nothing typed is lost
            field.value = original
            await pilot.pause()
            assert name not in form.errors

        # "FULL" is the batch size "full", as on the command line and in TOML files.
        form.query_one("#field-batch_size", Input).value = "FULL"
        await pilot.pause()
        assert form.validated_config().train.batch_size == "full"


async def test_a_running_job_is_never_sent_a_value_beyond_float32(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lr 1e39 confirmed with Enter, or a threshold doubled past float32 with `+`: refused with
    the rule, the running job keeps its values and records no change."""
    config = validate(with_options(TINY, {"clip_norm": 2e38}))
    app = DnnApp(config, run_root=tmp_path)
    notes = Notes(app, monkeypatch)
    messages: list[Message] = []
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        lab = app.lab
        await pilot.press("r")
        await wait_until(pilot, lambda: lab.last_step is not None)
        await pilot.press("space")  # paused: Pilot waits for idle after each key
        controls = app.controls
        assert controls is not None

        field = lab.query_one("#field-lr", Input)
        field.focus()
        field.clear()
        await pilot.press(*"1e39", "enter", "escape")
        assert label_text(pilot, "#error-lr").startswith("lr: the learning rate must be at most")
        await pilot.press("plus")
        assert notes.seen[-1][0] == "Not changed"
        assert notes.seen[-1][1].startswith("clip_norm: must be at most 3.403e+38")
        assert (controls.lr, controls.clip_norm) == (0.01, 2e38)

        await pilot.press("s")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: lab.run_status.state == "stopped")
    applied = [
        event.kind
        for m in messages
        if isinstance(m, EngineReported)
        for event in m.events
        if isinstance(event, ControlApplied)
    ]
    assert "pause" in applied and not {"lr", "clip_norm"} & set(applied)


async def test_data_and_init_fields_show_with_the_choices_they_serve(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.lab.config_form

        def shown(name: str) -> bool:
            return form.query_one(f"#row-{name}").display

        assert shown("limit") and not shown("idx_images") and not shown("init_std")
        assert not shown("data_dir")  # digits is bundled: no folder to download into
        form.query_one("#field-limit", Input).value = "120"
        form.query_one("#field-seed", Input).value = "3"
        await pilot.pause()
        assert form.validated_config().data.limit == 120

        form.query_one("#field-dataset", Select).value = "auto"
        await pilot.pause()
        assert shown("data_dir")
        form.query_one("#field-data_dir", Input).value = str(tmp_path / "cache")
        await pilot.pause()
        assert form.validated_config().data.data_dir == str(tmp_path / "cache")

        form.query_one("#field-init", Select).value = "normal"
        await pilot.pause()
        assert shown("init_std")
        form.query_one("#field-init_std", Input).value = "-1"
        await pilot.pause()
        assert form.errors["init_std"].startswith("init_std: must be > 0")
        form.query_one("#field-init_std", Input).value = "0.3"
        await pilot.pause()
        assert form.validated_config().model.init_std == 0.3

        form.query_one("#field-dataset", Select).value = "idx"
        await pilot.pause()
        assert shown("idx_images") and shown("idx_labels") and not shown("data_dir")
        missing = tmp_path / "t10k-images-idx3-ubyte.gz"
        form.query_one("#field-idx_images", Input).value = str(missing)
        await pilot.pause()
        # Named before a run starts (the CLI finds out when it loads the data).
        assert form.errors["idx_images"] == f"idx_images: no such file: {missing}"
        assert label_text(pilot, "#error-idx_images") == form.errors["idx_images"]
        assert (
            form.errors["idx_labels"]
            == "idx_labels: dataset 'idx' needs both files; this one is empty"
        )


async def test_the_idx_fields_take_real_files(tmp_path: Path) -> None:
    mnist = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist-t10k"
    images, labels = mnist / "t10k-images-idx3-ubyte.gz", mnist / "t10k-labels-idx1-ubyte.gz"
    if not images.is_file():
        pytest.skip(f"the MNIST test files are not in {mnist}")
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.lab.config_form
        form.query_one("#field-dataset", Select).value = "idx"
        form.query_one("#field-idx_images", Input).value = str(images)
        form.query_one("#field-idx_labels", Input).value = str(labels)
        await pilot.pause()
        config = form.validated_config()
        assert (config.data.idx_images, config.data.idx_labels) == (str(images), str(labels))
        for row in ("idx_images", "idx_labels"):  # the compact form still fits the screen
            assert form.query_one(f"#row-{row}").region.bottom <= 23


async def test_switches_say_on_or_off(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.lab.config_form
        assert label_text(pilot, "#state-batchnorm") == "on"  # TINY has batch norm
        assert label_text(pilot, "#state-clipping") == "off"
        form.query_one("#field-clipping", Switch).focus()
        await pilot.press("space")
        assert label_text(pilot, "#state-clipping") == "on"
        assert form.query_one("#state-clipping").has_class("-on")


async def test_the_picker_follows_the_fields_and_an_edit_is_named(tmp_path: Path) -> None:
    from dnn_tui.presets import load_preset

    app = DnnApp(RunConfig(data=DataConfig("digits", limit=200)), run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.lab.config_form
        picker = form.query_one("#field-preset", Select)
        lesson = app.lab.run_status.query_one("#run-lesson", Static)
        await pilot.pause()
        assert picker.value == "baseline"  # the defaults are the baseline's experiment

        picker.value = "deep-sigmoid"
        await pilot.pause()
        assert "vanishing gradient" in str(lesson.render())
        epochs = form.query_one("#field-epochs", Input)
        epochs.value = "30"
        await pilot.pause()
        assert picker.value is Select.NULL and picker.prompt == "deep-sigmoid (edited)"
        config = form.validated_config()
        assert config.preset == "deep-sigmoid (edited)"
        assert config.description == load_preset("deep-sigmoid").description
        assert str(lesson.render()).startswith("deep-sigmoid (edited): The vanishing gradient")

        epochs.value = "20"  # back to the preset's experiment: its name again
        await pilot.pause()
        assert picker.value == "deep-sigmoid"
        form.query_one("#field-hidden", Input).value = "64x10,32"
        form.query_one("#field-epochs", Input).value = "1"
        await pilot.pause()
        await pilot.press("ctrl+r")
        assert app.lab.run_dir is not None
        assert app.lab.run_dir.name.endswith("-deep-sigmoid-edited")  # not the preset's name
        await app.workers.wait_for_complete()
        saved = load(app.lab.run_dir / "config.toml")
        assert saved.preset == "deep-sigmoid (edited)" and saved.model.hidden == (64,) * 10 + (32,)

        form.query_one("#field-preset", Select).value = "shallow"
        await pilot.pause()
        form.query_one("#field-hidden", Input).value = "7,7"
        await pilot.pause()
        assert picker.prompt == "shallow (edited)"


async def test_a_custom_config_is_custom(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        picker = app.lab.config_form.query_one("#field-preset", Select)
        assert picker.value is Select.NULL and picker.prompt == "(custom)"
        assert app.lab.config_form.validated_config().preset is None
        assert app.lab.run_status.has_class("-no-lesson")


async def test_every_option_of_the_table_has_its_row(tmp_path: Path) -> None:
    """Labels, placeholders and choices come from the option table, in its order."""
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)):
        form = app.lab.config_form
        rows = [row.id for row in form.query(".form-field")]
        expected = ["preset", *("clipping" if o.name == "clip_norm" else o.name for o in OPTIONS)]
        assert rows == [f"row-{name}" for name in expected]
        for option in OPTIONS:
            row = form.query_one(
                "#row-" + ("clipping" if option.name == "clip_norm" else option.name)
            )
            assert str(row.query_one(".field-label", Label).content) == option.label
            field = form.query_one(f"#field-{option.name}")
            if option.kind == "choice":
                assert isinstance(field, Select)
                assert [value for _, value in field._options] == list(option.choices)
            elif option.kind == "switch":
                assert isinstance(field, Switch)
            else:
                assert isinstance(field, Input)
                assert field.placeholder == option.hint


def cli_takes(options: dict[str, str]) -> bool:
    """Whether ``dnn-tui train`` takes these options, or refuses one as given for nothing."""
    args = build_parser().parse_args(
        ["train", *(text for name, value in options.items() for text in (flag(name), value))]
    )
    try:
        config_from_args(args, warn=lambda text: None)
    except UsageError:
        return False
    return True


async def test_a_row_shows_when_the_cli_would_take_its_option(tmp_path: Path) -> None:
    """The form hides an option's row exactly when the CLI refuses it as given for nothing."""
    decided = {o.name: o.used_when for o in OPTIONS if o.used_when is not None}
    sample = {"data_dir": "cache", "idx_images": "i.gz", "idx_labels": "l.gz", "init_std": "0.1"}
    sample |= {"step_size": "3", "gamma": "0.5", "plateau_patience": "1"}
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.lab.config_form
        for dataset in ("digits", "auto", "kmnist", "moons", "idx"):
            for init in ("xavier", "normal"):
                form.query_one("#field-dataset", Select).value = dataset
                form.query_one("#field-init", Select).value = init
                await pilot.pause()
                chosen = {"dataset": dataset, "init": init}
                if dataset == "idx":  # the CLI needs both files before it judges the rest
                    chosen |= {"idx_images": "i.gz", "idx_labels": "l.gz"}
                for name in decided:
                    shown = form.query_one(f"#row-{name}").display
                    assert shown == cli_takes({**chosen, name: sample[name]}), (dataset, init, name)
        for schedule in SCHEDULES:
            form.query_one("#field-schedule", Select).value = schedule
            await pilot.pause()
            for name in ("step_size", "gamma", "plateau_patience"):
                shown = form.query_one(f"#row-{name}").display
                assert shown == cli_takes({"schedule": schedule, name: sample[name]}), name


async def test_the_schedule_and_its_settings_come_from_the_form(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.lab.config_form
        assert form.validated_config().train.schedule == "none"
        form.query_one("#field-schedule", Select).value = "step"
        await pilot.pause()
        form.query_one("#field-step_size", Input).value = "4"
        form.query_one("#field-gamma", Input).value = "1.5"
        await pilot.pause()
        assert form.errors["gamma"].startswith("gamma: the lr factor must be below 1")
        form.query_one("#field-gamma", Input).value = "0.5"
        await pilot.pause()
        train = form.validated_config().train
        assert (train.schedule, train.step_size, train.gamma) == ("step", 4, 0.5)
        assert not form.query_one("#row-plateau_patience").display
