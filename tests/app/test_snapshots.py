"""Pictures of every screen at 80x24 and 120x40, from a scripted run (deterministic).

Some scenes are the cases that broke the dashboard in a real terminal: numbers too long
for their columns (a loss of 2.5e7), a notice arriving while a run goes on (it must not
cover a panel), and epochs with long lists of control changes.

Regenerate after an intended change with ``pytest tests/app --snapshot-update`` and look at
the SVGs in ``tests/app/__snapshots__/`` before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from dnn_tui.app.app import DnnApp
from dnn_tui.app.widgets.run_list import RunList
from tests.helpers import scripted
from tests.helpers.app import PRESETS, make_suite, wait_until

SIZES = [(80, 24), (120, 40)]
Compare = Callable[..., bool]


def app(tmp_path: Path) -> DnnApp:
    # The run root shows on screen: a fixed relative one keeps the pictures equal (nothing
    # is written there: these runs are scripted).
    return DnnApp(scripted.CONFIG, run_root=Path("runs"))


def feeding(events: list, *, clipping: bool = True) -> Callable[[Pilot], object]:
    async def run_before(pilot: Pilot) -> None:
        await pilot.pause()  # let the lab mount first
        scripted.feed(pilot.app, events, clipping=clipping)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_idle_lab(snap_compare: Compare, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(app(tmp_path), terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_lab_mid_run(snap_compare: Compare, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(app(tmp_path), terminal_size=size, run_before=feeding(scripted.mid_run()))


def test_gradients_tab_mid_run(snap_compare: Compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.pause()
        scripted.feed(pilot.app, scripted.mid_run())
        pilot.app.lab.show_page("gradients")
        await pilot.pause()

    assert snap_compare(app(tmp_path), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_model_graph(snap_compare: Compare, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(
        app(tmp_path), press=["g"], terminal_size=size, run_before=feeding(scripted.mid_run())
    )


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: Compare, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(app(tmp_path), press=["question_mark"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_diverged_panel(snap_compare: Compare, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(
        app(tmp_path), terminal_size=size, run_before=feeding(scripted.diverged(), clipping=False)
    )


@pytest.mark.parametrize("size", SIZES)
def test_signal_view(snap_compare: Compare, tmp_path: Path, size: tuple[int, int]) -> None:
    """`a` flips to the forward signal: a deep tanh stack whose signal collapses at the start."""
    assert snap_compare(
        DnnApp(scripted.DEEP_TANH, run_root=Path("runs")),
        press=["a"],
        terminal_size=size,
        run_before=feeding(scripted.deep_tanh_start(), clipping=False),
    )


@pytest.mark.parametrize("size", SIZES)
def test_weight_view(snap_compare: Compare, tmp_path: Path, size: tuple[int, int]) -> None:
    """`a` twice: the weights of every layer, their norms and update ratios; `i` puts the
    weights at the start beside them."""
    assert snap_compare(
        app(tmp_path),
        press=["a", "a", "i"],
        terminal_size=size,
        run_before=feeding(scripted.mid_run()),
    )


@pytest.mark.parametrize("size", SIZES)
def test_boundary_view(snap_compare: Compare, tmp_path: Path, size: tuple[int, int]) -> None:
    """`a` three times on 2-D data: the decision regions with training points on them."""
    assert snap_compare(
        DnnApp(scripted.MOONS, run_root=Path("runs")),
        press=["a", "a", "a"],
        terminal_size=size,
        run_before=feeding(scripted.moons_mid_run()),
    )


@pytest.mark.parametrize("size", SIZES)
def test_signal_view_with_the_start(
    snap_compare: Compare, tmp_path: Path, size: tuple[int, int]
) -> None:
    """`i` from the gradients: the signal panel with the signal at the start beside the current."""
    assert snap_compare(
        app(tmp_path), press=["i"], terminal_size=size, run_before=feeding(scripted.mid_run())
    )


@pytest.mark.parametrize("size", SIZES)
def test_long_numbers_and_events(
    snap_compare: Compare, tmp_path: Path, size: tuple[int, int]
) -> None:
    """Every number whole in its column; the events column ends in an ellipsis and the line
    under the table lists the running epoch's changes in full; the ★ row's numbers stay named."""
    assert snap_compare(
        app(tmp_path), terminal_size=size, run_before=feeding(scripted.long_numbers_and_events())
    )


@pytest.mark.parametrize("size", SIZES)
def test_compare_regularization(
    snap_compare: Compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """The lesson's figure from the four fixed MNIST runs of the regularization suite: the
    bottleneck ends below the baseline, dropout and L2 close the train-validation gap."""
    monkeypatch.chdir(tmp_path)  # the runs folder shows on screen as ./runs
    make_suite(Path("runs"))

    async def run_before(pilot: Pilot) -> None:
        await pilot.press("v")
        run_list = pilot.app.screen.query_one(RunList)
        await wait_until(pilot, lambda: run_list.row_count == len(PRESETS))
        for _ in PRESETS:
            await pilot.press("space", "down")
        await pilot.pause()

    assert snap_compare(app(tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_notice_during_a_run(snap_compare: Compare, tmp_path: Path, size: tuple[int, int]) -> None:
    """The dataset fallback's warning on the notice line, every panel still whole."""
    events = scripted.with_notice(scripted.mid_run())
    assert snap_compare(app(tmp_path), terminal_size=size, run_before=feeding(events))


def test_long_events_of_a_highlighted_epoch(snap_compare: Compare, tmp_path: Path) -> None:
    """With the focus on the table, the line under it lists the highlighted epoch's changes."""

    async def run_before(pilot: Pilot) -> None:
        await pilot.pause()
        scripted.feed(pilot.app, scripted.long_numbers_and_events())
        pilot.app.lab.epoch_table.focus()
        await pilot.press("up", "up")
        await pilot.pause()

    assert snap_compare(app(tmp_path), terminal_size=(80, 24), run_before=run_before)
