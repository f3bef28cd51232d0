"""ConfigForm: the run's settings, validated as the user types with the CLI's own rules.

Every text field is parsed with ``config.parse_option`` and the whole form with
``config.validate``, so a value the CLI refuses is refused here with the same
message (and an IDX file that does not exist is named before the run starts).
An invalid field is marked and its rule shows beneath it; nothing the user typed
is ever replaced. The rows, their labels, placeholders and choices come from the
option table (``dnn_tui.options``), as the CLI's options do. Rows that only matter
for some choices show with them (the table's ``used_when``, the rule by which the
CLI refuses an option given for nothing): the IDX files for ``idx``, the data
folder for the downloadable datasets, the standard deviation for the ``normal``
init (a row with an invalid value shows anyway).

Loading a preset sets the model and training settings; the dataset and the
device stay as the user chose them (they describe the machine, not the experiment), but
for the presets made for 2-D data (``moons-tiny``, ``circles-linear`` ...), whose dataset
is the experiment: they bring theirs, and leaving them for another preset brings that
one's back.
The picker follows the fields (``presets.name_of``): it names the preset whose
experiment the fields hold, ``NAME (edited)`` once they differ from the preset
they came from, or ``(custom)``; the run is saved under that name, and the lab's
lesson line shows the preset's description. Switches say ``on`` or ``off`` in words.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Switch

from dnn_tui.analysis.regions import PLANE_DATASETS
from dnn_tui.app.messages import LearningRateEntered, PresetShown
from dnn_tui.config import (
    ConfigError,
    RunConfig,
    format_hidden,
    format_option,
    option_value,
    parse_option,
    validate,
    with_options,
)
from dnn_tui.fileio import visible
from dnn_tui.options import OPTIONS, UsedWhen
from dnn_tui.presets import name_of
from dnn_tui.training.controls import DEFAULT_CLIP_NORM

CHOICES: dict[str, tuple[str, ...]] = {o.name: o.choices for o in OPTIONS if o.kind == "choice"}
"""Options picked from a list."""
TEXT_FIELDS: tuple[str, ...] = tuple(o.name for o in OPTIONS if o.kind == "text")
"""Options typed as text and read with ``parse_option``."""
CLIPPING = "clipping"
"""The row of ``clip_norm``: a switch turns clipping on or off, and the threshold's field keeps
its value while clipping is off."""
LABELS: dict[str, str] = {
    "preset": "preset",
    **{CLIPPING if o.name == "clip_norm" else o.name: o.label for o in OPTIONS},
}
"""Form rows in display order, with their labels: the preset picker, then the option table's."""
HINTS: dict[str, str] = {o.name: o.hint for o in OPTIONS if o.hint}
"""Placeholders of the text fields."""
USED_WHEN: dict[str, UsedWhen] = {o.name: o.used_when for o in OPTIONS if o.used_when is not None}
"""Rows shown only when the run reads their option (the rule the CLI refuses options by)."""
SWITCH_FIELDS: tuple[str, ...] = tuple(o.name for o in OPTIONS if o.kind == "switch")
"""Options switched on and off."""
SWITCHES = (*SWITCH_FIELDS, CLIPPING)
"""On/off rows: a Switch with its state in words beside it."""
ERROR_ROWS: dict[str, str] = {
    **{name: name for name in LABELS if name != CLIPPING},
    "clip_norm": CLIPPING,
}
"""Field -> the row whose error line shows its rule (the threshold's is the clipping row's)."""
CUSTOM = "(custom)"
"""The preset picker's blank choice."""


def error_field(error: ConfigError) -> str:
    """The form field a ConfigError is about (its message starts with the option name)."""
    return str(error).split(":", 1)[0].split(",", 1)[0].strip()


def field_text(config: RunConfig, name: str) -> str:
    """What a text field shows for config's value (``64x10`` for ten layers of 64)."""
    value = option_value(config, name)
    return format_hidden(value) if name == "hidden" else format_option(value)


class ConfigForm(Widget):
    """The configuration of the next run (``#config-form``)."""

    def __init__(
        self, config: RunConfig, presets: dict[str, RunConfig], *, id: str = "config-form"
    ) -> None:
        # The class the switch sets, set before the first styling pass (a class added after
        # it restyles every field again).
        off = "-clipping-off" if config.train.clip_norm is None else None
        super().__init__(id=id, classes=off)
        self._base = config
        self._presets = presets
        self._errors: dict[str, str] = {}
        self._shown: dict[str, str] = {}
        self.preset_name: str | None = None
        """What the picker names the fields' config (a preset, ``NAME (edited)`` or None)."""
        self._named: tuple[str | None, str] | None = None

    # --- composition ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        config = self._base
        with VerticalScroll(id="form-fields"):
            for name, label in LABELS.items():
                with Vertical(classes="form-field", id=f"row-{name}"):
                    with Horizontal(classes="form-line"):
                        yield Label(label, classes="field-label")
                        yield from self._controls(name, config)
                    yield Label("", classes="field-error", id=f"error-{name}")
            yield Label("", classes="field-error", id="error-form")

    def _controls(self, name: str, config: RunConfig) -> ComposeResult:
        if name == "preset":
            yield Select(
                [(p, p) for p in self._presets],
                value=Select.NULL,
                prompt=CUSTOM,
                compact=True,
                id="field-preset",
            )
        elif name in CHOICES:
            yield Select(
                [(c, c) for c in CHOICES[name]],
                value=option_value(config, name),
                allow_blank=False,
                compact=True,
                id=f"field-{name}",
            )
        elif name in SWITCH_FIELDS:
            yield Switch(option_value(config, name), id=f"field-{name}")
            yield Label("", classes="switch-state", id=f"state-{name}")
        elif name == CLIPPING:
            clip = config.train.clip_norm
            yield Switch(clip is not None, id="field-clipping")
            yield Label("", classes="switch-state", id="state-clipping")
            yield Input(
                format_option(clip if clip is not None else DEFAULT_CLIP_NORM),
                placeholder=HINTS["clip_norm"],
                compact=True,
                id="field-clip_norm",
            )
        else:
            yield Input(
                field_text(config, name),
                placeholder=HINTS.get(name, ""),
                compact=True,
                id=f"field-{name}",
            )

    def on_mount(self) -> None:
        self._revalidate()

    # --- reading ------------------------------------------------------------------------------

    @property
    def errors(self) -> dict[str, str]:
        """Field name -> the rule its value breaks; empty when the form is valid."""
        return dict(self._errors)

    @property
    def clipping(self) -> bool:
        return self.query_one("#field-clipping", Switch).value

    def _text(self, name: str) -> str:
        return self.query_one(f"#field-{name}", Input).value

    def _options(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The parsed options, and the fields whose text does not parse."""
        options: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name in TEXT_FIELDS:
            try:
                options[name] = parse_option(name, self._text(name))
            except ConfigError as error:
                errors[name] = str(error)
        for name in CHOICES:
            options[name] = self.query_one(f"#field-{name}", Select).value
        for name in SWITCH_FIELDS:
            options[name] = self.query_one(f"#field-{name}", Switch).value
        if options["dataset"] == "idx":
            for name, error in idx_file_errors(options).items():
                errors.setdefault(name, error)
        if not self.clipping:
            errors.pop("clip_norm", None)
            options["clip_norm"] = None
        elif options.get("clip_norm", 0.0) is None:
            errors["clip_norm"] = "clip_norm: enter a threshold > 0, or switch clipping off"
        return options, errors

    def check(self) -> tuple[RunConfig | None, dict[str, str]]:
        """The validated config (None when any field is invalid) and every field's error.

        The config's preset and description are what the picker says (``presets.name_of``).
        """
        options, errors = self._options()
        for name in errors:
            options.pop(name, None)
        while True:
            try:
                config = validate(with_options(self._base, options))
            except ConfigError as error:
                name = error_field(error)
                errors.setdefault(name, str(error))
                if name not in options:
                    return None, errors
                del options[name]  # judge the other fields with this one as loaded
            else:
                if errors:
                    return None, errors
                name, description = name_of(config, self._presets, self._base)
                return replace(config, preset=name, description=description), errors

    def validated_config(self) -> RunConfig:
        """The form's config; ConfigError (the first field's rule) when a field is invalid."""
        config, errors = self.check()
        if config is None:
            name = self._first(errors)
            raise ConfigError(errors[name])
        return config

    def named(self) -> tuple[str | None, str]:
        """(preset name, description) of the fields as they are, valid or not."""
        options, errors = self._options()
        for name in errors:
            options.pop(name, None)
        try:
            config = with_options(self._base, options)
        except ConfigError:
            config = self._base
        return name_of(config, self._presets, self._base)

    @property
    def epochs_changed(self) -> bool:
        """Whether the epochs field differs from the config the form was loaded with (a suite
        then runs every preset for these epochs, else each for its own)."""
        return self._text("epochs").strip() != field_text(self._base, "epochs")

    def _first(self, errors: dict[str, str]) -> str:
        order = [*LABELS, "clip_norm"]
        return min(errors, key=lambda n: order.index(n) if n in order else len(order))

    def focus_first_error(self) -> None:
        """Move the focus to the first invalid field (so the user can fix it at once)."""
        if self._errors:
            name = self._first(self._errors)
            for widget in self.query(f"#field-{name}"):
                widget.focus()

    # --- loading ------------------------------------------------------------------------------

    def load(self, config: RunConfig) -> None:
        """Show config in every field (replacing what is there) and keep it as the base."""
        self._base = config
        with self.prevent(Input.Changed, Select.Changed, Switch.Changed):
            for name in CHOICES:
                self.query_one(f"#field-{name}", Select).value = option_value(config, name)
            for name in SWITCH_FIELDS:
                self.query_one(f"#field-{name}", Switch).value = option_value(config, name)
            clip = config.train.clip_norm
            self.query_one("#field-clipping", Switch).value = clip is not None
            for name in TEXT_FIELDS:
                value = option_value(config, name)
                if name == "clip_norm" and value is None:
                    continue  # keep the threshold typed, ready for the switch
                self.query_one(f"#field-{name}", Input).value = field_text(config, name)
        self._revalidate()

    def set_lr(self, lr: float) -> None:
        """Type a learning rate into the lr field (the form revalidates as for a typed one)."""
        self.query_one("#field-lr", Input).value = f"{lr:.3g}"

    def _load_preset(self, name: str) -> None:
        from dnn_tui.presets import load_preset

        try:
            preset = load_preset(name)
        except ConfigError as error:
            self.notify(str(error), title="Preset", severity="error")
            return
        current = self._base
        dataset = self.query_one("#field-dataset", Select).value
        if preset.data.dataset in PLANE_DATASETS or dataset in PLANE_DATASETS:
            dataset = preset.data.dataset  # a 2-D preset's lesson is about its own data
        device = self.query_one("#field-device", Select).value
        self.load(
            replace(
                preset,
                data=replace(current.data, dataset=dataset),
                train=replace(preset.train, device=device),
            )
        )

    # --- reacting -----------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._revalidate()

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self._revalidate()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "field-preset":
            # The picker also reports what the form set it to: only a new choice loads.
            if event.value is not Select.NULL and event.value != self.preset_name:
                self._load_preset(str(event.value))
        else:
            self._revalidate()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the learning-rate field offers the rate to a running job."""
        event.stop()
        if event.input.id == "field-lr" and "lr" not in self._errors:
            self.post_message(LearningRateEntered(parse_option("lr", event.value)))

    def _revalidate(self) -> None:
        """Mark the invalid fields and show each one's rule; touch only what changed."""
        _, self._errors = self.check()
        self.set_class(not self.clipping, "-clipping-off")
        for name in SWITCHES:
            on = self.query_one(f"#field-{name}", Switch).value
            state = self.query_one(f"#state-{name}", Label)
            state.update("on" if on else "off")
            state.set_class(on, "-on")
        for name, used_when in USED_WHEN.items():
            deciding = self.query_one(f"#field-{used_when.option}", Select).value
            used = used_when.why_unused(deciding) is None
            self.query_one(f"#row-{name}").display = used or name in self._errors
        self._name_preset()
        shown = {name: self._errors.get(name, "") for name in ERROR_ROWS}
        shown["form"] = "\n".join(e for n, e in self._errors.items() if n not in ERROR_ROWS)
        for name, text in shown.items():
            if self._shown.get(name, "") == text:
                continue
            self._shown[name] = text
            label = self.query_one(f"#error-{ERROR_ROWS.get(name, name)}", Label)
            label.update(text)
            label.set_class(bool(text), "-shown")
            for widget in self.query(f"#field-{name}"):
                widget.set_class(bool(text), "-invalid")

    def _name_preset(self) -> None:
        """The picker and the description follow the fields (see the module docstring)."""
        name, description = self.named()
        if (name, description) == self._named:
            return
        self._named, self.preset_name = (name, description), name
        picker = self.query_one("#field-preset", Select)
        with self.prevent(Select.Changed):
            if name in self._presets:
                picker.value = name
            else:
                # a name from a file: its control characters shown, its markup not applied
                picker.prompt = escape(visible(name)) if name else CUSTOM
                picker.value = Select.NULL
        self.post_message(PresetShown(name, description))


def idx_file_errors(options: dict[str, Any]) -> dict[str, str]:
    """The IDX file fields' errors, each on its own field: empty, or no such file. (The CLI
    finds a missing file when it loads the data; the form says so before the run starts.)"""
    errors = {}
    for name in ("idx_images", "idx_labels"):
        if name not in options:
            continue  # its text did not parse: that error is shown already
        path = options[name]
        if not path:
            errors[name] = f"{name}: dataset 'idx' needs both files; this one is empty"
        elif not Path(path).expanduser().is_file():
            errors[name] = f"{name}: no such file: {path}"
    return errors
