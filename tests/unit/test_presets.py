"""The presets: every shipped file loads and validates, wherever the package is installed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dnn_tui import presets
from dnn_tui.config import ConfigError, RunConfig, validate, with_options
from dnn_tui.presets import list_presets, load_preset, load_presets, name_of, same_experiment

REQUIRED = {
    "baseline",
    "shallow",
    "bottleneck",
    "l2",
    "dropout",
    "batchnorm",
    "early-stopping",
    "full-batch",
    "small-batch",
    "deep-sigmoid",
    "deep-relu-he",
    "deep-tanh",
    "deep-tanh-xavier",
    "deep-sigmoid-saturated",
    "deep-sigmoid-batchnorm",
    "deep-relu",
    "exploding",
    "exploding-clipped",
    "moons-tiny",
    "spiral-deep",
    "spiral-shallow",
    "circles-linear",
    "circles-hidden",
}
"""The experiments the lab promises."""

SHIPPED = [preset.name for preset in list_presets()]


def test_the_promised_presets_are_shipped() -> None:
    assert not REQUIRED - set(SHIPPED), "missing presets"
    assert sorted(SHIPPED) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_every_preset_loads_and_validates(name: str) -> None:
    config = load_preset(name)
    assert isinstance(config, RunConfig)
    assert validate(config) == config
    assert config.preset == name
    assert config.description.strip(), f"{name} needs a description"


def test_listing_gives_names_descriptions_and_files() -> None:
    for preset in list_presets():
        assert preset.path.is_file()
        assert preset.path.stem == preset.name
        assert preset.description == load_preset(preset.name).description


def test_unknown_preset_names_it_and_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        load_preset("no-such-thing")
    message = str(caught.value)
    assert "'no-such-thing'" in message
    assert "baseline" in message and "exploding-clipped" in message


def _write_preset(folder: Path, name: str) -> None:
    folder.mkdir(parents=True)
    (folder / f"{name}.toml").write_text(f'description = "{name} here"\n[train]\nepochs = 2\n')


def test_an_installed_package_reads_its_own_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site-packages" / "dnn_tui"
    _write_preset(package / "models", "shipped")
    _write_preset(tmp_path / "site-packages" / "models", "stray")
    monkeypatch.setattr(presets, "_PACKAGE_DIR", package)
    assert [p.name for p in list_presets()] == ["shipped"]
    config = load_preset("shipped")
    assert (config.preset, config.train.epochs) == ("shipped", 2)


def test_a_checkout_reads_the_repository_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_preset(tmp_path / "models", "in-repo")
    monkeypatch.setattr(presets, "_PACKAGE_DIR", tmp_path / "dnn_tui")
    assert presets.presets_dir() == tmp_path / "models"
    assert [p.name for p in list_presets()] == ["in-repo"]


def test_a_config_is_named_after_the_preset_whose_experiment_it_is() -> None:
    known = load_presets()
    assert set(known) == set(SHIPPED)
    sigmoid = known["deep-sigmoid"]
    # The defaults are the baseline's experiment: named so, with its description.
    assert name_of(RunConfig(), known, None) == ("baseline", known["baseline"].description)
    # Data, seed and device are not the experiment.
    moved = with_options(sigmoid, {"dataset": "digits", "limit": 300, "seed": 7, "device": "cpu"})
    assert same_experiment(moved, sigmoid)
    assert name_of(moved, known, sigmoid)[0] == "deep-sigmoid"
    # Thirty epochs are another experiment: an edit, keeping where it came from and its lesson.
    longer = with_options(sigmoid, {"epochs": 30})
    assert name_of(longer, known, sigmoid) == ("deep-sigmoid (edited)", sigmoid.description)
    # ... also when it was loaded already edited (a run's config.toml, or --preset with options).
    assert name_of(longer, known, longer)[0] == "deep-sigmoid (edited)"
    reloaded = replace(longer, preset="deep-sigmoid (edited)")
    assert name_of(reloaded, known, reloaded)[0] == "deep-sigmoid (edited)"
    # Edited into another preset's experiment: that preset.
    cured = with_options(sigmoid, {"activation": "relu", "init": "he"})
    assert name_of(cured, known, sigmoid)[0] == "deep-relu-he"
    # A config that no preset holds and that came from none is custom.
    tiny = with_options(RunConfig(), {"hidden": (16, 8)})
    assert name_of(tiny, known, RunConfig()) == ("baseline (edited)", known["baseline"].description)
    assert name_of(tiny, known, tiny) == (None, "")
    # A named config of the user's keeps its name until edited.
    mine = replace(tiny, preset="my-net", description="Mine.")
    assert name_of(mine, known, mine) == ("my-net", "Mine.")
    assert name_of(with_options(mine, {"lr": 0.1}), known, mine) == ("my-net (edited)", "Mine.")


def test_init_std_counts_only_for_the_normal_init() -> None:
    base = load_preset("baseline")
    assert same_experiment(with_options(base, {"init_std": 0.2}), base)
    normal = load_preset("exploding")
    assert not same_experiment(with_options(normal, {"init_std": 0.2}), normal)
