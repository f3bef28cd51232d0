"""A suite from the dashboard runs each preset for its own epochs unless the user changed the
form's; then every preset runs those and is named as edited."""

from __future__ import annotations

from dnn_tui.app.suite_runner import suite_configs
from dnn_tui.config import DataConfig, RunConfig, TrainConfig
from dnn_tui.presets import load_preset

FORM = RunConfig(preset="baseline", data=DataConfig("digits"), train=TrainConfig(epochs=20))


def test_each_preset_keeps_its_own_epochs_when_the_form_is_unchanged() -> None:
    configs = dict(suite_configs("batching", FORM))
    assert list(configs) == ["full-batch", "baseline", "small-batch"]
    for name, config in configs.items():
        own = load_preset(name)
        assert (config.preset, config.train.epochs) == (name, own.train.epochs)
        assert config.data.dataset == "digits"
    assert configs["full-batch"].train.epochs == 200


def test_changed_epochs_run_every_preset_and_name_the_edited_ones() -> None:
    configs = dict(suite_configs("batching", FORM, epochs_changed=True))
    assert list(configs) == ["full-batch", "baseline", "small-batch"]
    assert configs["full-batch"].preset == "full-batch (edited)"
    assert {config.train.epochs for config in configs.values()} == {20}
    assert configs["baseline"].preset == "baseline"  # its own epochs: still the preset
