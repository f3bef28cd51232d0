"""Run folders written by someone else: names, presets, descriptions and config values that hold
terminal escape sequences, Rich markup and spreadsheet formulas."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "regularization-mnist"

TITLE = "\x1b]0;owned\x07"
"""OSC 0: retitles the terminal window."""
CLIPBOARD = "\x1b]52;c;ZXZpbA==\x07"
"""OSC 52: writes the terminal's clipboard."""
FOLDER = f"run{TITLE}[bold red]x[/]"
PRESET = f"base\x1b[31m{CLIPBOARD}[blink]"
DESCRIPTION = f"{CLIPBOARD}\x9b2J a lesson"
DATA_PATH = f"images{TITLE}.gz"


def _toml(text: str) -> str:
    return json.dumps(text)  # a JSON string with \\u escapes is a TOML basic string


def hostile_run(root: Path, folder: str = FOLDER, source: str = "baseline") -> Path:
    """A finished MNIST run copied into ``root / folder`` whose preset, description and image
    path hold escape sequences and markup (in config.toml and history.json alike)."""
    path = root / folder
    shutil.copytree(FIXTURES / source, path)
    config = (path / "config.toml").read_text()
    lines = []
    for line in config.splitlines():
        if line.startswith("preset = "):
            line = f"preset = {_toml(PRESET)}"
        elif line.startswith("description = "):
            line = f"description = {_toml(DESCRIPTION)}"
        elif line.startswith("idx_images = "):
            line = f"idx_images = {_toml(DATA_PATH)}"
        lines.append(line)
    (path / "config.toml").write_text("\n".join(lines) + "\n")
    history = json.loads((path / "history.json").read_text())
    history["config"]["preset"] = PRESET
    history["config"]["description"] = DESCRIPTION
    history["config"]["data"]["idx_images"] = DATA_PATH
    (path / "history.json").write_text(json.dumps(history))
    return path


def raw_controls(text: str) -> list[str]:
    """The control characters in text (none may come from a file or a path)."""
    return [c for c in text if (ord(c) < 0x20 and c not in "\n") or 0x7F <= ord(c) < 0xA0]


def logged_run(root: Path, epochs: int = 3, *, status: str = "running") -> Path:
    """A schema 3 run (a fixture's config and layers) whose history.json holds no epoch yet and
    whose epoch log (epochs.jsonl) holds ``epochs``: a run killed before its first rewrite."""
    path = root / "logged"
    shutil.copytree(FIXTURES / "baseline", path)
    history = json.loads((path / "history.json").read_text())
    records = history["epochs"][:epochs]
    history.update(schema=3, status=status, epochs=[], best_epoch=None, test=None)
    (path / "history.json").write_text(json.dumps(history))
    header = (path / "history.csv").read_text().splitlines()[0]
    (path / "history.csv").write_text(header + "\n")
    (path / "epochs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return path
