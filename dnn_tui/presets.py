"""The presets: one TOML file per experiment of the lab, found wherever the package runs.

Runs without any UI and without torch. A wheel ships the TOML files inside the
package (``dnn_tui/models``, copied there by hatch's ``force-include``); an
editable install or a checkout reads them from ``models/`` at the repository root.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from dnn_tui.config import ConfigError, RunConfig, load

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
        raise ConfigError(f"preset: unknown preset {name!r}; known presets: {known}")
    config = load(paths[name])
    return config if config.preset == name else replace(config, preset=name)


SUITES: dict[str, tuple[str, ...]] = {
    "regularization": ("baseline", "l2", "dropout", "bottleneck"),
    "gradients": ("deep-sigmoid", "deep-relu-he", "deep-tanh-xavier"),
    "batching": ("full-batch", "baseline", "small-batch"),
    "clipping": ("exploding", "exploding-clipped"),
    "depth": ("shallow", "baseline"),
}
"""Named lists of presets, run one after the other and compared (``dnn-tui suite NAME``, or
from the dashboard)."""
SUITE_ALIASES = {"batch": "batching"}
"""Former names that still work."""


def suite_presets(name: str) -> tuple[str, ...]:
    """The presets of a suite (by its name or a former one); ConfigError lists the suites."""
    presets = SUITES.get(SUITE_ALIASES.get(name, name))
    if presets is None:
        raise ConfigError(f"suite {name!r}: no such suite (known: {', '.join(SUITES)})")
    return presets
