"""The compare screen (``v``): the runs list with suites, selecting and hiding runs, the figures,
the differences table, CSV export, deleting, loading a config into the form, opening a run,
live updates, damaged runs of every kind among good ones, and a suite run from the dashboard."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import Input, OptionList

from dnn_tui.analysis.comparison import tidy_csv
from dnn_tui.app import screens
from dnn_tui.app.app import DnnApp
from dnn_tui.app.messages import RunOpened
from dnn_tui.app.screens.compare import CompareScreen
from dnn_tui.app.screens.confirm import ConfirmScreen
from dnn_tui.app.screens.export import ExportScreen
from dnn_tui.app.screens.suite_picker import SuitePickerScreen
from dnn_tui.app.widgets.difference_table import DifferenceTable
from dnn_tui.app.widgets.gradient_strips import GradientStrips
from dnn_tui.app.widgets.run_chart import RunChart
from dnn_tui.app.widgets.run_list import RunList
from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from dnn_tui.rundir.files import MAX_HISTORY_BYTES, load_run
from dnn_tui.rundir.liveness import LIVENESS_FILE, current
from dnn_tui.rundir.readings import gaps
from tests.helpers.app import FIXTURES, PRESETS, SUITE, TINY, make_suite, open_list, wait_until
from tests.helpers.cli import start_train, wait_for_run_files


async def select_rows(pilot, count: int) -> None:
    for _ in range(count):
        await pilot.press("space", "down")


class Notes:
    """The notifications of the app (run_test turns the toasts off)."""

    def __init__(self, app: DnnApp, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[tuple[str, str]] = []
        original = app.notify

        def notify(message: str, *, title: str = "", **options: object) -> None:
            self.seen.append((title, message))
            original(message, title=title, **options)  # type: ignore[arg-type]

        monkeypatch.setattr(app, "notify", notify)


async def test_select_hide_and_filter(tmp_path: Path) -> None:
    paths = make_suite(tmp_path)
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(pilot, 4)
        run_list = screen.query_one(RunList)
        assert [e.path for e in run_list.entries.values()] == paths
        await select_rows(pilot, 2)
        assert run_list.selected == paths[:2]
        chart = screen.query_one("#accuracy-chart", RunChart)
        assert chart.figure is not None
        assert [s.label for s in chart.figure.series] == ["baseline", "l2"]
        assert [s.style.marker for s in chart.figure.series] == ["●", "■"]
        drawn = str(chart.render())
        assert "●○ baseline" in drawn and "■□ l2" in drawn

        # Unselect the first: the second keeps its marker.
        await pilot.press("up", "up", "space")
        assert run_list.selected == [paths[1]]
        assert [s.style.marker for s in chart.figure.series] == ["■"]

        # Hide the selected l2: gone from the list and the figures; H brings it back.
        await pilot.press("down", "h")
        assert run_list.row_count == 3 and run_list.selected == []
        assert chart.figure.series == ()
        await pilot.press("H")
        assert run_list.row_count == 4

        # Filter by words; escape leaves the field, the filter stays.
        await pilot.press("slash", *"bottle")
        assert run_list.row_count == 1
        assert run_list.current is not None and run_list.current.preset == "bottleneck"
        await pilot.press("escape")
        assert isinstance(app.screen, CompareScreen) and run_list.has_focus
        await pilot.press("space")
        assert run_list.selected == [paths[3]]
        await pilot.press("slash")
        screen.query_one("#run-filter", Input).value = ""
        await pilot.pause()
        assert run_list.row_count == 4

        # The other figures follow the selection; escape goes back to the lab.
        assert screen.query_one("#loss-chart", RunChart).figure.log
        assert screen.query_one(GradientStrips).strips[0].label == "bottleneck"
        await pilot.press("escape", "escape")
        assert app.screen is app.lab


async def test_the_differences_table_and_zoom(tmp_path: Path) -> None:
    paths = make_suite(tmp_path)
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(pilot, 4)
        await select_rows(pilot, 4)
        await pilot.press("3")
        table = screen.query_one(DifferenceTable)
        rows = {
            str(table.get_row_at(i)[0]): [str(c) for c in table.get_row_at(i)[1:]]
            for i in range(table.row_count)
        }
        assert rows["model.hidden"] == ["100,50,20", "100,50,20", "100,50,20", "100,50,3"]
        assert rows["train.l2"] == ["0.0", "0.001", "0.0", "0.0"]
        assert rows["model.dropout"] == ["0.0", "0.0", "0.2,0.2,0.0", "0.0"]
        for i, path in enumerate(paths):
            found = gaps(load_run(path).history)
            assert rows["gap at the last epoch"][i] == f"{found.last:.3f}"
            assert rows["gap at the best epoch"][i] == f"{found.best:.3f}"
        # The lesson: dropout and L2 end with a smaller gap than the baseline.
        last = [float(v) for v in rows["gap at the last epoch"]]
        assert last[2] < last[0] and last[1] < last[0]

        chart = screen.query_one("#accuracy-chart", RunChart)
        assert chart.figure.x_axis == "epochs"
        await pilot.press("a")
        assert chart.figure.x_axis == "steps" and "by steps taken" in str(chart.render())
        await pilot.press("a", "a")
        assert chart.figure.x_axis == "epochs"
        assert chart.figure.zoom == "last-half"
        await pilot.press("z")
        assert chart.figure.zoom == "after-first"
        await pilot.press("l")
        assert not screen.query_one("#loss-chart", RunChart).figure.log


async def test_export_the_selected_runs_as_csv(tmp_path: Path) -> None:
    paths = make_suite(tmp_path / "runs")
    target = tmp_path / "export.csv"
    app = DnnApp(TINY, run_root=tmp_path / "runs")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_list(pilot, 4)
        await pilot.press("e")
        assert isinstance(app.screen, CompareScreen)  # nothing selected: nothing to export
        await select_rows(pilot, 4)
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        field = app.screen.query_one(Input)
        assert field.value.startswith(str(tmp_path / "runs" / "compare-"))
        field.value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, target.exists)
    rows = list(csv.reader(target.open()))
    assert len(rows) == 1 + 80
    names = [os.path.join(SUITE, preset) for preset in PRESETS]
    expected = tidy_csv(
        [
            (name, load_run(p).config.preset, load_run(p).history)
            for name, p in zip(names, paths, strict=True)
        ]
    )
    assert target.read_text() == expected


async def test_enter_asks_to_open_the_run(tmp_path: Path) -> None:
    paths = make_suite(tmp_path)
    messages: list[Message] = []
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await open_list(pilot, 4)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
    opened = {id(m): m for m in messages if isinstance(m, RunOpened)}  # seen at each hop up
    assert [m.path for m in opened.values()] == [paths[2]]


async def test_enter_shows_a_finished_run_in_the_lab(tmp_path: Path) -> None:
    paths = make_suite(tmp_path)
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_list(pilot, 4)
        await pilot.press("down", "enter")
        assert app.screen is app.lab
        lab = app.lab
        await wait_until(pilot, lambda: lab.run_status.state == "completed")
        assert lab.run_dir == paths[1]
        assert lab.epoch_table.row_count == 20
        assert app.controls is None and not app.running  # nothing to steer


@pytest.mark.e2e
async def test_enter_follows_a_running_run_live(tmp_path: Path) -> None:
    """A headless run in another process, opened from the list: the lab follows it through
    the watch path, and says interrupted when its process is killed."""
    root = tmp_path / "runs"
    root.mkdir()
    run = root / "20250106-090000-custom"
    process = start_train(run, 100_000)
    try:
        wait_for_run_files(run, process)
        app = DnnApp(TINY, run_root=root)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_list(pilot, 1)
            assert screen.query_one(RunList).current.status == "running"
            await pilot.press("enter")
            assert app.screen is app.lab
            lab = app.lab
            await wait_until(pilot, lambda: lab.last_step is not None)
            assert lab.run_dir == run and not app.local
            assert lab.run_status.state == "running"
            process.kill()
            process.wait()
            await wait_until(pilot, lambda: lab.run_status.state == "interrupted")
            await wait_until(pilot, lambda: app.controls is None)
    finally:
        process.kill()
        process.wait()


async def test_enter_on_a_damaged_run_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(tmp_path)
    typed = Path(shutil.copytree(FIXTURES / "l2", tmp_path / "typed"))
    (typed / "history.json").write_text('{"schema": 1}')
    app = DnnApp(TINY, run_root=tmp_path)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(pilot, 5)
        run_list = screen.query_one(RunList)
        run_list.move_cursor(row=list(run_list.entries).index(typed))
        await pilot.press("enter")
        assert app.screen is screen
        assert any(title == "Damaged run" and str(typed) in m for title, m in notes.seen)


async def test_load_a_run_config_into_the_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(tmp_path)
    # The runs' config names the IDX files as ../shared/data/mnist-t10k/...: give the form
    # files at that place (it checks they exist), whether or not the real ones are there.
    here = tmp_path / "lab"
    data = tmp_path / "shared" / "data" / "mnist-t10k"
    data.mkdir(parents=True)
    here.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (data / name).write_bytes(b"")
    monkeypatch.chdir(here)
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_list(pilot, 4)
        await pilot.press("down", "down", "down", "f")
        assert app.screen is app.lab
        config = app.lab.config_form.validated_config()
        assert config.model.hidden == (100, 50, 3)
        assert config.preset == "bottleneck"
        assert config.train.epochs == 20


async def test_delete_asks_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = make_suite(tmp_path)
    running = paths[3]
    history = json.loads((running / "history.json").read_text())
    history["status"] = "running"
    (running / "history.json").write_text(json.dumps(history))
    (running / LIVENESS_FILE).write_text(current().to_json())
    app = DnnApp(TINY, run_root=tmp_path)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(pilot, 4)
        run_list = screen.query_one(RunList)
        await pilot.press("down", "d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert paths[1].is_dir()
        await pilot.press("d")
        await pilot.press("y")
        await wait_until(pilot, lambda: run_list.row_count == 3)
        assert not paths[1].exists() and paths[0].is_dir()
        # A running run is never deleted.
        run_list.move_cursor(row=2)
        await pilot.press("d")
        assert isinstance(app.screen, CompareScreen)
        assert ("Not deleted", f"{SUITE}/bottleneck is running: stop it first") in notes.seen
        assert running.is_dir()


async def test_a_running_run_updates_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screens.compare, "LIVE_S", 0.2)
    run = tmp_path / "20250105-120000-baseline"
    shutil.copytree(FIXTURES / "baseline", run)
    full = json.loads((run / "history.json").read_text())

    def write(epochs: int) -> None:
        history = dict(full, status="running", epochs=full["epochs"][:epochs], test=None)
        history["best_epoch"] = min(full["best_epoch"], epochs)
        # Atomically, as a run writes it: the list reads the file while the test writes it.
        (run / "history.json.tmp").write_text(json.dumps(history))
        os.replace(run / "history.json.tmp", run / "history.json")

    write(3)
    (run / "history.csv").unlink()
    (run / LIVENESS_FILE).write_text(current().to_json())
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(pilot, 1)
        run_list = screen.query_one(RunList)
        assert run_list.current is not None and run_list.current.status == "running"
        await pilot.press("space")
        chart = screen.query_one("#accuracy-chart", RunChart)
        assert len(chart.figure.series[0].epochs) == 3
        write(7)
        await wait_until(pilot, lambda: len(chart.figure.series[0].epochs) == 7)
        assert run_list.current.epochs == 7
        (run / LIVENESS_FILE).unlink()  # its process is gone
        await wait_until(pilot, lambda: run_list.current.status == "interrupted")


def damaged_runs(root: Path) -> dict[str, str]:
    """One run of every kind of damage, next to good ones: name -> what the list must say."""

    def copy(name: str) -> Path:
        return Path(shutil.copytree(FIXTURES / "l2", root / name))

    kinds = {}
    missing = copy("missing")
    (missing / "history.json").unlink()
    kinds["missing"] = "history.json: missing; the run wrote no history"
    truncated = copy("truncated")
    data = (truncated / "history.json").read_bytes()
    (truncated / "history.json").write_bytes(data[: len(data) // 2])
    kinds["truncated"] = "history.json: not valid JSON (truncated or damaged)"
    typed = copy("typed")
    history = json.loads((typed / "history.json").read_text())
    history["epochs"][3]["val_acc"] = "x"
    (typed / "history.json").write_text(json.dumps(history))
    kinds["typed"] = (
        'history.json: epochs[3].val_acc: must be a number from 0 to 1 or null, got "x"'
    )
    fifo = copy("fifo")
    (fifo / "history.json").unlink()
    os.mkfifo(fifo / "history.json")
    kinds["fifo"] = "history.json: not read: a FIFO, not a regular file"
    device = copy("device")
    (device / "history.json").unlink()
    (device / "history.json").symlink_to("/dev/zero")
    kinds["device"] = "history.json: not read: a character device, not a regular file"
    huge = copy("huge")
    with (huge / "history.json").open("r+b") as handle:
        handle.truncate(MAX_HISTORY_BYTES + 1)
    kinds["huge"] = f"history.json: not read: {MAX_HISTORY_BYTES + 1:,} bytes, more than the"
    return kinds


async def test_damaged_runs_among_good_ones_never_break_the_dashboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "runs"
    good = make_suite(root)
    kinds = damaged_runs(root)
    weights = Path(shutil.copytree(FIXTURES / "dropout", root / "weights"))
    (weights / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    app = DnnApp(TINY, run_root=root)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        # A run is going (paused, to keep the test quick) while the list is opened: it must
        # survive the damaged runs.
        await pilot.press("r")
        await wait_until(pilot, lambda: app.lab.last_step is not None)
        await pilot.press("space")
        screen = await open_list(pilot, 4 + len(kinds) + 2)
        run_list = screen.query_one(RunList)
        entries = {e.name: e for e in run_list.entries.values()}
        for name, problem in kinds.items():
            assert entries[name].status == "damaged", name
            assert entries[name].problem.startswith(f"{root / name / problem}"), entries[
                name
            ].problem
        assert entries["weights"].status == "completed"  # the list reads only history.json
        assert [entries[os.path.join(SUITE, p)].status for p in PRESETS] == ["completed"] * 4

        # Selecting a damaged run says why; a good one is drawn.
        order = list(run_list.entries)
        run_list.move_cursor(row=order.index(root / "typed"))
        await pilot.press("space")
        assert run_list.selected == []
        assert any(title == "Not selected" and "epochs[3].val_acc" in m for title, m in notes.seen)
        run_list.move_cursor(row=order.index(good[0]))
        await pilot.press("space")
        assert run_list.selected == [good[0]]
        # Weights damaged: found when the run is read in full; listed as damaged from then on.
        run_list.move_cursor(row=order.index(weights))
        await pilot.press("space")
        assert run_list.selected == [good[0]]
        assert run_list.entries[weights].status == "damaged"
        assert (
            "model.safetensors: not a valid safetensors file" in run_list.entries[weights].problem
        )
        chart = screen.query_one("#accuracy-chart", RunChart)
        assert [s.label for s in chart.figure.series] == ["baseline"]

        assert app.running and app.is_running
        await pilot.press("escape", "s")
        await app.workers.wait_for_complete()


TINY_SUITE = RunConfig(
    model=ModelConfig(hidden=(8,)),
    data=DataConfig("digits", limit=100),
    train=TrainConfig(epochs=3, batch_size=50),
)


async def test_a_suite_from_the_dashboard(tmp_path: Path) -> None:
    app = DnnApp(TINY_SUITE, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        # The user changes the epochs: every preset runs 2, and says it was edited.
        app.lab.config_form.query_one("#field-epochs", Input).value = "2"
        await pilot.pause()
        await pilot.press("u")
        assert isinstance(app.screen, SuitePickerScreen)
        options = app.screen.query_one(OptionList)
        options.highlighted = [o.id for o in options.options].index("depth")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), timeout=120)
        screen = app.screen
        run_list = screen.query_one(RunList)
        await wait_until(pilot, lambda: len(run_list.selected) == 2)
        (suite,) = tmp_path.iterdir()
        assert suite.name.endswith("-suite-depth")
        assert run_list.selected == [suite / "shallow", suite / "baseline"]
        for preset in ("shallow", "baseline"):
            run = load_run(suite / preset)
            assert run.history["status"] == "completed"
            assert run.config.preset == f"{preset} (edited)"
            assert run.config.data == TINY_SUITE.data
            assert len(run.history["epochs"]) == 2
        chart = screen.query_one("#accuracy-chart", RunChart)
        assert [s.label for s in chart.figure.series] == ["shallow (edited)", "baseline (edited)"]
        assert app.suite is None and not app.running


async def test_the_figures_read_without_colour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under NO_COLOR the screen is monochrome: every run keeps a marker of its own."""
    monkeypatch.setenv("NO_COLOR", "1")
    make_suite(tmp_path)
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.no_color
        await open_list(pilot, 4)
        await select_rows(pilot, 4)
        await pilot.pause()
        screen_text = app.export_screenshot()
    for marker, hollow, name in (
        ("●", "○", "baseline"),
        ("■", "□", "l2"),
        ("▲", "△", "dropout"),
        ("◆", "◇", "bottleneck"),
    ):
        assert f"{marker}{hollow}&#160;{name}" in screen_text or f"{marker}{hollow} {name}" in (
            screen_text
        )
        assert screen_text.count(marker) >= 5 and screen_text.count(hollow) >= 5


async def test_the_run_going_on_here_is_never_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: app.lab.last_step is not None)
        await pilot.press("space")  # paused: the run is still going
        screen = await open_list(pilot, 1)
        await pilot.press("d")
        assert app.screen is screen
        run_dir = app.lab.run_dir
        assert run_dir is not None and run_dir.is_dir()
        assert any(
            title == "Not deleted" and "the run going on here" in message
            for title, message in notes.seen
        )
        await pilot.press("escape", "s")
        await app.workers.wait_for_complete()
