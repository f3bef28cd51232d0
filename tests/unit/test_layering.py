"""The layering rule: only dnn_tui.app imports Textual, and torch loads only when needed.

Each check imports in a fresh interpreter and looks at ``sys.modules``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def loaded_after(code: str) -> set[str]:
    """The top-level module names loaded after running code in a fresh interpreter."""
    script = (
        f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(done.stdout.split())


def test_the_engine_side_never_imports_textual() -> None:
    code = (
        "import dnn_tui.config, dnn_tui.data, dnn_tui.model, dnn_tui.training, "
        "dnn_tui.training.engine, dnn_tui.rundir.files, dnn_tui.training.report, "
        "dnn_tui.presets, dnn_tui.cli, dnn_tui.graph, dnn_tui.rundir.recorder, "
        "dnn_tui.commands.train, dnn_tui.commands.compare, dnn_tui.rundir.catalog, "
        "dnn_tui.analysis.figures, dnn_tui.analysis.comparison, dnn_tui.commands.runs\n"
        "import sys\n"
        "assert not [m for m in sys.modules if m.startswith('dnn_tui.app')], 'dnn_tui.app loaded'"
    )
    loaded = loaded_after(code)
    assert "torch" in loaded  # the engine really was imported
    assert "textual" not in loaded


def test_config_and_cli_do_not_import_torch() -> None:
    loaded = loaded_after(
        "import dnn_tui.config, dnn_tui.cli, dnn_tui.presets, dnn_tui.rundir.files, "
        "dnn_tui.graph, dnn_tui.sweeps.planning, dnn_tui.sweeps.local, dnn_tui.sweeps.ray_tasks, "
        "dnn_tui.commands.sweep"
    )
    assert "dnn_tui" in loaded
    assert "torch" not in loaded
    assert "textual" not in loaded


def test_listing_presets_and_help_do_not_import_torch() -> None:
    code = (
        "import contextlib, io\n"
        "from dnn_tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['presets']) == 0\n"
        "    assert main(['train', '--help']) == 0"
    )
    loaded = loaded_after(code)
    assert "torch" not in loaded
    assert "textual" not in loaded


def test_listing_and_comparing_runs_do_not_import_torch() -> None:
    """``dnn-tui runs`` and ``dnn-tui compare`` read JSON and TOML and draw with plotext."""
    fixtures = REPO / "tests" / "data" / "regularization-mnist"
    code = (
        "import contextlib, io\n"
        "from dnn_tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['runs', {str(fixtures)!r}]) == 0\n"
        f"    assert main(['compare', {str(fixtures / 'baseline')!r}, "
        f"{str(fixtures / 'bottleneck')!r}]) == 0"
    )
    loaded = loaded_after(code)
    assert "plotext" in loaded
    assert "torch" not in loaded
    assert "textual" not in loaded
