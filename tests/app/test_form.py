"""The config form: validated as the user types with the CLI's rules; nothing typed is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Select, Switch

from dnn_tui.app.app import DnnApp
from dnn_tui.app.widgets.config_form import ConfigForm
from dnn_tui.config import ConfigError, ModelConfig, parse_option, validate, with_options

from .support import TINY, label_text


class Notes:
    """Records the app's notifications (run_test turns the toasts off)."""

    def __init__(self, app: DnnApp, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[tuple[str, str, str]] = []
        monkeypatch.setattr(app, "notify", self.notify)

    def notify(self, message: str, *, title: str = "", severity: str = "information", **_: object):
        self.seen.append((title, message, severity))


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
        assert form.query_one("#field-hidden", Input).value == ",".join(["64"] * 10)


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
        assert form.query_one("#field-preset", Select).value == "baseline"
        assert form.validated_config() == config
