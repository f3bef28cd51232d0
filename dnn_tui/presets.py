"""The presets: one TOML file per experiment of the lab, found wherever the package runs.

Runs without any UI and without torch. A wheel ships the TOML files inside the
package (``dnn_tui/models``, copied there by hatch's ``force-include``); an
editable install or a checkout reads them from ``models/`` at the repository root.

A config keeps a preset's name only while it is that preset's experiment
(``same_experiment``: the model and the training settings, the seed and the device
aside); one changed in the dashboard's form is ``NAME (edited)`` (``name_of``), so
that its run folder and the runs list do not claim the preset's results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from dnn_tui.config import ConfigError, ModelConfig, RunConfig, load
from dnn_tui.fileio import did_you_mean, shorten

EDITED = " (edited)"
"""Appended to the name of a preset whose experiment was changed."""

_PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Preset:
    """One experiment as ``dnn-tui presets`` lists it."""

    name: str
    """The file name without ``.toml``; what ``--preset`` takes."""
    description: str
    """What the experiment demonstrates and what to look at."""
    path: Path
    """The TOML file."""


def presets_dir() -> Path:
    """The folder holding the preset files: inside the package when installed, else the repo's."""
    shipped = _PACKAGE_DIR / "models"
    return shipped if shipped.is_dir() else _PACKAGE_DIR.parent / "models"


def _preset_paths() -> dict[str, Path]:
    paths = sorted(presets_dir().glob("*.toml"), key=lambda path: path.stem)
    return {path.stem: path for path in paths}


def list_presets() -> list[Preset]:
    """Every preset, sorted by name (each file is validated as it is read)."""
    return [Preset(name, load(path).description, path) for name, path in _preset_paths().items()]


def load_preset(name: str) -> RunConfig:
    """The validated config of a preset; ConfigError names the preset and lists the known ones."""
    paths = _preset_paths()
    if name not in paths:
        known = ", ".join(paths) or f"none (no preset files in {presets_dir()})"
        raise ConfigError(
            f"preset: unknown preset {shorten(name)}{did_you_mean(name, paths)} (known: {known})"
        )
    config = load(paths[name])
    return config if config.preset == name else replace(config, preset=name)


SUITES: dict[str, tuple[str, ...]] = {
    "regularization": ("baseline", "l2", "dropout", "bottleneck"),
    "gradients": ("deep-sigmoid", "deep-relu-he", "deep-tanh-xavier"),
    "batching": ("full-batch", "baseline", "small-batch"),
    "clipping": ("exploding", "exploding-clipped"),
    "depth": ("shallow", "baseline"),
    "ensemble": ("baseline",),
    "circles": ("circles-linear", "circles-hidden"),
    "spiral": ("spiral-shallow", "spiral-deep"),
}
"""Named lists of presets, run one after the other and compared (``dnn-tui suite NAME``, or
from the dashboard)."""
SUITE_SEEDS: dict[str, tuple[int, ...]] = {"ensemble": (0, 1, 2)}
"""Suites whose presets run once per training seed (on one split), their runs then evaluated
as one ensemble: separately trained networks whose averaged outputs beat the mean member."""
SUITE_ALIASES = {"batch": "batching", "regularisation": "regularization"}
"""Former names and British spellings that still work."""


def suite_presets(name: str) -> tuple[str, ...]:
    """The presets of a suite (by its name or a former one); ConfigError lists the suites."""
    presets = SUITES.get(SUITE_ALIASES.get(name, name))
    if presets is None:
        raise ConfigError(
            f"suite {shorten(name)}: no such suite{did_you_mean(name, [*SUITES, *SUITE_ALIASES])} "
            f"(known: {', '.join(SUITES)})"
        )
    return presets


@dataclass(frozen=True)
class SuiteRun:
    """One run of a suite: a preset, with the training seed the suite sets (if it does)."""

    preset: str
    seed: int | None = None
    """None: the preset's own seed."""

    @property
    def name(self) -> str:
        """The run's folder in the suite's directory."""
        return self.preset if self.seed is None else f"{self.preset}-seed{self.seed}"


def suite_runs(name: str) -> tuple[SuiteRun, ...]:
    """The runs of a suite (by its name or a former one), in order; ConfigError lists the
    suites."""
    name = SUITE_ALIASES.get(name, name)
    seeds = SUITE_SEEDS.get(name, (None,))
    return tuple(SuiteRun(preset, seed) for preset in suite_presets(name) for seed in seeds)


def suite_text(name: str) -> str:
    """What a suite runs, in words: ``baseline, l2`` or ``baseline with seeds 0, 1, 2, then
    their ensemble``."""
    presets = ", ".join(SUITES[name])
    seeds = SUITE_SEEDS.get(name)
    if seeds is None:
        return presets
    return f"{presets} with seeds {', '.join(map(str, seeds))}, then their ensemble"


def load_presets() -> dict[str, RunConfig]:
    """Every preset that loads, by name (``dnn-tui presets`` names the broken files)."""
    configs = {}
    for name in _preset_paths():
        try:
            configs[name] = load_preset(name)
        except ConfigError:
            continue
    return configs


def _experiment(config: RunConfig) -> tuple[object, ...]:
    """What makes an experiment: the model and the training settings but the seed, device and
    threads (the standard deviation counts only for the ``normal`` init, the only one that
    uses it)."""
    model = config.model
    if model.init != "normal":
        model = replace(model, init_std=ModelConfig().init_std)
    return model, replace(config.train, seed=0, device="auto", threads="auto")


def same_experiment(a: RunConfig, b: RunConfig) -> bool:
    """Whether two configs run the same experiment (data, seed, device and threads may
    differ)."""
    return _experiment(a) == _experiment(b)


def name_of(
    config: RunConfig, presets: Mapping[str, RunConfig], origin: RunConfig | None
) -> tuple[str | None, str]:
    """(preset name, description) that describe ``config``, whose fields were loaded from
    ``origin`` and maybe changed since.

    The name of the preset whose experiment it is; else, when it came from a preset (or a
    named config, or one holding a preset's experiment) and differs from it, that name with
    `` (edited)``; else None (custom). The description follows the name (an edited preset
    keeps its preset's description).
    """
    for name, preset in presets.items():
        if same_experiment(config, preset):
            return name, preset.description
    if origin is None:
        return None, ""
    origin_name = origin.preset or next(
        (name for name, preset in presets.items() if same_experiment(origin, preset)), None
    )
    if origin_name is None:
        return None, ""
    base = origin_name.removesuffix(EDITED)
    reference = presets.get(base, origin)
    if same_experiment(config, reference):
        return origin_name, origin.description
    return base + EDITED, reference.description
