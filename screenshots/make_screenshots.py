"""Regenerate the SVG screenshots of the dashboard from real runs on the offline digits data,
and the compare screen on the real MNIST images when ../shared/data/mnist-t10k is there.

    python screenshots/make_screenshots.py [SCENE ...]

(every scene, or only those named: ``baseline``, ``errors`` ...).

Each picture drives the real app (``run_test``) and the real engine: the presets
are loaded as ``dnn-tui tui --preset NAME --dataset digits`` would load them, runs
are saved into a temporary folder (shown on screen as ``runs/...``), and the
screen is saved with ``App.save_screenshot``. A run is paused right after the
epoch worth seeing, from the training thread itself (a digits epoch takes
milliseconds, faster than any look from the UI thread), so a picture does not
depend on how fast the machine is: its numbers are those of a real run (same
seed, same numbers on CPU).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from textual.pilot import Pilot  # noqa: E402

from dnn_tui.app.app import DnnApp  # noqa: E402
from dnn_tui.config import RunConfig, validate, with_options  # noqa: E402
from dnn_tui.presets import load_preset  # noqa: E402
from dnn_tui.rundir import recorder  # noqa: E402
from dnn_tui.training import engine  # noqa: E402
from dnn_tui.training.events import EpochEnded, Event  # noqa: E402

TIMEOUT_S = 120.0
"""Longest wait for any one moment of a run."""
MNIST_T10K = HERE.parent.parent / "shared" / "data" / "mnist-t10k"
"""The real MNIST test images (10,000), for the lesson's figures."""


class PausingRecorder(recorder.RunRecorder):
    """The run files as usual, and a pause of the running job right after epoch ``pause_after``.

    The worker builds its recorder when a run starts; this one takes its place.
    """

    app: DnnApp | None = None
    pause_after: int | None = None

    def __call__(self, event: Event) -> None:
        super().__call__(event)
        app = PausingRecorder.app
        if (
            isinstance(event, EpochEnded)
            and event.record["epoch"] == PausingRecorder.pause_after
            and app is not None
            and app.controls is not None
        ):
            app.controls.pause()  # thread-safe: the next step waits


recorder.RunRecorder = PausingRecorder  # type: ignore[misc]


def preset(name: str, **options: object) -> RunConfig:
    """A preset on the offline digits data, with options replaced as on the command line (an
    option that changes the experiment makes it ``NAME (edited)``, as the form says)."""
    return validate(with_options(load_preset(name), {"dataset": "digits", **options}))


async def until(condition: Callable[[], bool]) -> None:
    """Let the app run until condition() holds (plain sleeps: Pilot.pause waits for CPU idle,
    which a training thread never gives)."""
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {TIMEOUT_S} s for {condition}")
        await asyncio.sleep(0.05)


async def settle(app: DnnApp) -> None:
    """Give the screen time to draw what arrived (the panels redraw 10 times a second)."""
    await asyncio.sleep(0.4)
    app.lab.flush_panels()
    app.lab.epoch_table.flush(force=True)
    await asyncio.sleep(0.2)


def save(app: DnnApp, name: str) -> None:
    path = app.save_screenshot(f"{name}.svg", path=str(HERE))
    print(f"wrote {Path(path).relative_to(HERE.parent)}")


async def paused_at(pilot: Pilot, epochs: int) -> None:
    """Start the form's run and let it pause right after epoch ``epochs``."""
    app = pilot.app
    PausingRecorder.app, PausingRecorder.pause_after = app, epochs
    await pilot.press("r")
    await until(lambda: app.lab.run_status.state == "paused")
    await settle(app)


async def finish(pilot: Pilot) -> None:
    """Resume (the action of the space key) and wait until the run has ended."""
    app = pilot.app
    app.action_toggle_pause()
    await until(lambda: not app.running)
    await settle(app)


async def baseline(root: Path) -> None:
    app = DnnApp(preset("baseline"), run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        save(app, "lab-idle-120x40")
        await paused_at(pilot, 5)
        save(app, "lab-baseline-running")
        await pilot.press("g")
        await asyncio.sleep(0.6)
        save(app, "model-graph")
        await pilot.press("escape")
        await finish(pilot)
        save(app, "lab-baseline-finished")
    app = DnnApp(preset("baseline"), run_root=root)
    async with app.run_test(size=(80, 24)) as pilot:
        save(app, "lab-80x24-setup")
        await paused_at(pilot, 4)
        save(app, "lab-80x24-train")
        app.lab.show_page("gradients")
        await settle(app)
        save(app, "lab-80x24-gradients")
        await finish(pilot)


async def paused_shot(
    root: Path, name: str, pause_after: int, size: tuple[int, int], shot: str
) -> None:
    """One picture of preset ``name`` paused after epoch ``pause_after``; then the run ends."""
    app = DnnApp(preset(name), run_root=root)
    async with app.run_test(size=size) as pilot:
        await paused_at(pilot, pause_after)
        save(app, shot)
        await finish(pilot)


async def vanishing(root: Path) -> None:
    await paused_shot(root, "deep-sigmoid", 3, (200, 60), "lab-deep-sigmoid-vanishing")
    await paused_shot(root, "deep-relu-he", 3, (120, 40), "lab-deep-relu-he-even")


async def batches(root: Path) -> None:
    """Full-batch learning: step 1 of 1 in every epoch, and the lesson above the panels; the
    model graph of batch norm, with the biases it cancels."""
    await paused_shot(root, "full-batch", 40, (120, 40), "lab-full-batch")
    app = DnnApp(preset("batchnorm"), run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await paused_at(pilot, 2)
        await pilot.press("g")
        await asyncio.sleep(0.6)
        save(app, "model-graph-batchnorm")
        await pilot.press("escape")
        await finish(pilot)


async def exploding(root: Path) -> None:
    await paused_shot(root, "exploding-clipped", 2, (120, 40), "lab-exploding-clipped")
    app = DnnApp(preset("exploding"), run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await until(lambda: type(app.screen).__name__ == "DivergenceScreen")
        await settle(app)
        save(app, "divergence")


async def signal_shot(
    root: Path, name: str, pause_after: int, size: tuple[int, int], shot: str
) -> None:
    """Preset ``name`` paused after epoch ``pause_after``, with the signal panel shown (``a``)."""
    app = DnnApp(preset(name, epochs=pause_after + 1), run_root=root)
    async with app.run_test(size=size) as pilot:
        await paused_at(pilot, pause_after)
        await pilot.press("a")
        await settle(app)
        save(app, shot)
        await finish(pilot)


async def signal(root: Path) -> None:
    await signal_shot(root, "deep-tanh", 1, (120, 40), "lab-deep-tanh-signal")
    await signal_shot(root, "deep-sigmoid-saturated", 1, (120, 40), "lab-sigmoid-saturated-signal")
    await signal_shot(root, "deep-tanh-xavier", 1, (80, 24), "lab-80x24-signal")


async def weights(root: Path) -> None:
    """The weight panel (``a`` twice) of l2 during a run, and deep-tanh-xavier's signal with
    the one at initialisation beside it (``i``)."""
    app = DnnApp(preset("l2", epochs=4), run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await paused_at(pilot, 3)
        await pilot.press("a", "a")
        await settle(app)
        save(app, "lab-l2-weights")
        await finish(pilot)
    app = DnnApp(preset("deep-tanh-xavier", epochs=3), run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await paused_at(pilot, 2)
        await pilot.press("i")
        await settle(app)
        save(app, "lab-deep-tanh-xavier-start")
        await finish(pilot)


async def boundary(root: Path) -> None:
    """The decision regions of moons-tiny sharpening: full-batch steps (an epoch is one step),
    paused after steps 1, 20 and 200 with the boundary panel shown (``a`` three times)."""
    engine.BOUNDARY_INTERVAL = 0.0  # the regions of every step, so a pause shows its own
    config = validate(with_options(load_preset("moons-tiny"), {"batch_size": "full"}))
    app = DnnApp(replace(config, train=replace(config.train, epochs=200)), run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a", "a", "a")
        PausingRecorder.app, PausingRecorder.pause_after = app, 1
        await pilot.press("r")
        for steps in (1, 20, 200):
            await until(lambda: app.lab.run_status.state == "paused" or not app.running)
            await settle(app)
            save(app, f"lab-moons-boundary-{steps}")
            PausingRecorder.pause_after = {1: 20, 20: None}.get(steps)
            if app.running:
                app.action_toggle_pause()
                await until(lambda: app.lab.run_status.state != "paused")
        await until(lambda: not app.running)


async def open_runs(pilot: Pilot, select: list[str], folder: str = "") -> None:
    """Open the runs list and select the runs whose preset is in select, in that order (the
    first of each preset, or the one in the folder whose name contains ``folder``)."""
    from dnn_tui.app.widgets.run_list import RunList
    from dnn_tui.presets import EDITED

    app = pilot.app
    await pilot.press("v")
    run_list = app.screen.query_one(RunList)
    await until(lambda: run_list.row_count > 0)
    for preset in select:
        row = next(
            i
            for i, e in enumerate(run_list.entries.values())
            if (e.preset or "").removesuffix(EDITED) == preset and folder in e.name
        )
        run_list.move_cursor(row=row)
        await pilot.press("space")
    run_list.move_cursor(row=0)
    await asyncio.sleep(0.5)


async def overview(root: Path) -> None:
    app = DnnApp(preset("baseline"), run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runs(pilot, ["deep-sigmoid", "deep-relu-he"])
        await pilot.press("4")
        await asyncio.sleep(0.5)
        save(app, "compare-gradients")
        await pilot.press("escape", "question_mark")
        await asyncio.sleep(0.5)
        save(app, "help")


async def batching(root: Path) -> None:
    """The batching lesson per step: full-batch's 200 epochs beside the baseline's 20, the
    x axis in optimizer steps taken (``a``)."""
    app = DnnApp(preset("baseline"), run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runs(pilot, ["full-batch", "baseline"])
        await pilot.press("a")
        await asyncio.sleep(0.5)
        save(app, "compare-batching-steps")


async def regularization(root: Path) -> None:
    """The lesson's figures: the regularization suite on the real MNIST images, 20 epochs."""
    if not MNIST_T10K.is_dir():
        print(f"skipped compare-regularization: no MNIST files in {MNIST_T10K}")
        return
    mnist_suite("regularization", 20)
    app = DnnApp(preset("baseline"), run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runs(pilot, ["baseline", "l2", "dropout", "bottleneck"], "-suite-regularization")
        save(app, "compare-regularization")
        await pilot.press("3")
        await asyncio.sleep(0.5)
        save(app, "compare-differences")
        await pilot.press("5")
        await asyncio.sleep(0.5)
        save(app, "compare-weights")


def mnist_suite(name: str, epochs: int) -> None:
    """``dnn-tui suite NAME`` on the real MNIST test images, into ./runs."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dnn_tui",
            "suite",
            name,
            "--epochs",
            str(epochs),
            "--dataset",
            "idx",
            "--idx-images",
            str(MNIST_T10K / "t10k-images-idx3-ubyte.gz"),
            "--idx-labels",
            str(MNIST_T10K / "t10k-labels-idx1-ubyte.gz"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )


async def ensemble(root: Path) -> None:
    """Three seeds of the baseline on the real MNIST images, 6 epochs, and `a`: their
    ensemble against the mean member."""
    from dnn_tui.app.widgets.run_list import RunList

    if not MNIST_T10K.is_dir():
        print(f"skipped compare-ensemble: no MNIST files in {MNIST_T10K}")
        return
    mnist_suite("ensemble", 6)
    app = DnnApp(preset("baseline"), run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        run_list = app.screen.query_one(RunList)
        await until(lambda: run_list.row_count > 0)
        for row, entry in enumerate(list(run_list.entries.values())):
            if "-suite-ensemble" in entry.name:
                run_list.move_cursor(row=row)
                await pilot.press("space")
        run_list.move_cursor(row=0)
        await pilot.press("m")
        result = app.screen.query_one("#ensemble-result")
        await until(lambda: " acc " in str(result.render()))
        await asyncio.sleep(0.5)
        save(app, "compare-ensemble")


async def watch(root: Path) -> None:
    """`dnn-tui watch` on a headless run of another process (as after an SSH drop), with
    clipping switched on from this dashboard and applied by the run."""
    from dnn_tui.rundir.files import RunError, load_run

    run_dir = root / "long"
    train = subprocess.Popen(
        [sys.executable, "-m", "dnn_tui", "train", "--preset", "baseline", "--dataset",
         "digits", "--batch-size", "10", "--epochs", "400", "--out", str(run_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def epochs_done() -> int:
        """The run's finished epochs, through the loader (history.json joined with the epoch
        log, as a running run's are)."""
        try:
            return len(load_run(run_dir).history["epochs"])
        except RunError:
            return 0

    try:
        await until(lambda: epochs_done() >= 3)
        app = DnnApp(RunConfig(), run_root=root, watch=run_dir)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(lambda: app.lab.run_status.state == "running")
            await pilot.press("c")
            controls = app.lab.run_status.query_one("#run-controls")
            shown = lambda: str(controls.content)  # noqa: E731
            await until(lambda: "ON" in shown() and "sent" not in shown())
            await until(lambda: epochs_done() >= 8)
            await settle(app)
            save(app, "watch")
            await pilot.press("s")  # the run stops after its step, saved as stopped
            await until(lambda: train.poll() is not None)
    finally:
        if train.poll() is None:
            train.terminate()
        train.wait()


async def errors_shot(root: Path, run: str, name: str, size: tuple[int, int]) -> None:
    """The errors screen (``x`` in the runs list) of the run in folder ``run``."""
    from dnn_tui.app.screens.errors import ErrorsScreen
    from dnn_tui.app.widgets.run_list import RunList

    app = DnnApp(preset("baseline"), run_root=root)
    async with app.run_test(size=size) as pilot:
        await pilot.press("v")
        run_list = app.screen.query_one(RunList)
        await until(lambda: any(e.name == run for e in run_list.entries.values()))
        row = next(i for i, e in enumerate(run_list.entries.values()) if e.name == run)
        run_list.move_cursor(row=row)
        await pilot.press("x")
        screen = app.screen
        assert isinstance(screen, ErrorsScreen)
        await until(lambda: screen.errors is not None)
        await asyncio.sleep(0.5)
        save(app, name)


async def errors(root: Path) -> None:
    """What the baseline gets wrong on the digits (20 epochs), and on the real MNIST images
    (the regularization suite's baseline, when it ran)."""
    subprocess.run(
        [sys.executable, "-m", "dnn_tui", "train", "--preset", "baseline", "--dataset",
         "digits", "--out", str(root / "baseline-digits")],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )  # fmt: skip
    await errors_shot(root, "baseline-digits", "errors-digits", (120, 40))
    await errors_shot(root, "baseline-digits", "errors-80x24", (80, 24))
    suite = sorted(root.glob("*-suite-regularization/baseline"))
    if suite:
        await errors_shot(root, str(suite[-1].relative_to(root)), "errors-mnist", (120, 40))


async def stepping(root: Path) -> None:
    """A 2-8-8-2 tanh network on the moons, paused after epoch 3, three single steps (`n`),
    then the model graph with one sample's pass node by node."""
    config = validate(
        with_options(
            RunConfig(),
            {"dataset": "moons", "hidden": (8, 8), "activation": "tanh", "epochs": 50},
        )
    )
    app = DnnApp(config, run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await paused_at(pilot, 3)
        await until(lambda: app.lab.last_pass is not None)  # traced as it paused
        for _ in range(3):
            last = app.lab.last_pass
            await pilot.press("n")
            await until(lambda last=last: app.lab.last_pass is not last)
        await settle(app)
        save(app, "lab-moons-stepped")
        await pilot.press("g")
        await asyncio.sleep(0.6)
        app.screen.query_one("#graph-pass").scroll_visible(animate=False, top=True)
        await asyncio.sleep(0.3)
        save(app, "model-graph-pass")
        await pilot.press("escape")
        await finish(pilot)


async def search(root: Path) -> None:
    """What mattered in a TPE search of 10 trials over lr and hidden on the digits, pruned
    by the median rule (two at once; about a minute)."""
    from dnn_tui.app.screens.sweep_importance import SweepImportanceScreen

    sweep = root / "search"
    subprocess.run(
        [sys.executable, "-m", "dnn_tui", "sweep", "--preset", "baseline", "--dataset",
         "digits", "--epochs", "30", "--batch-size", "16", "--search", "tpe", "--trials",
         "10", "--space", "lr=log:1e-4..1e-1", "--space", "hidden=choice:100,50/200/32/none",
         "--prune", "median", "--jobs", "2", "--out", str(sweep)],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )  # fmt: skip
    app = DnnApp(preset("baseline"), run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = SweepImportanceScreen(sweep)
        app.push_screen(screen)
        await until(lambda: screen.result is not None)
        await settle(app)
        save(app, "sweep-importance")


async def continued(root: Path) -> None:
    """A finished 5-epoch baseline continued with ``o`` to 10 epochs: the dialog that asks the
    epochs, then the lab following the continued run to its end."""
    from textual.widgets import Input

    from dnn_tui.app.screens.continuation import ContinueScreen

    run_dir = root / "continued"
    subprocess.run(
        [sys.executable, "-m", "dnn_tui", "train", "--preset", "baseline", "--dataset",
         "digits", "--epochs", "5", "--out", str(run_dir)],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )  # fmt: skip
    app = DnnApp(RunConfig(), run_root=root, watch=run_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: app.lab.run_status.state == "completed")
        await pilot.press("o")
        await until(lambda: isinstance(app.screen, ContinueScreen))
        await settle(app)
        save(app, "continue-dialog")
        app.screen.query_one(Input).value = "10"
        await pilot.press("enter")
        await until(lambda: len(app.lab.epoch_table.records) == 10)
        await until(lambda: app.lab.run_status.state == "completed")
        await settle(app)
        save(app, "lab-continued")


async def lr_find(root: Path) -> None:
    """The learning-rate range test (``l``) of the baseline on the real MNIST images (the
    digits when they are absent), its suggestion taken into the form; then a cosine
    schedule's run, its lr row under the curves."""
    from dnn_tui.app.screens.lr_find import LrFindScreen

    images, labels = (
        MNIST_T10K / "t10k-images-idx3-ubyte.gz",
        MNIST_T10K / "t10k-labels-idx1-ubyte.gz",
    )
    data = {"dataset": "idx", "idx_images": str(images), "idx_labels": str(labels)}
    config = preset("baseline", **(data if images.exists() and labels.exists() else {}))
    app = DnnApp(config, run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        app.set_focus(None)
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, LrFindScreen) and app.screen.test is not None)
        await asyncio.sleep(0.5)
        save(app, "lr-find")
    app = DnnApp(preset("baseline", schedule="cosine", epochs=12), run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await until(lambda: len(app.lab.epoch_table.records) == 12 and not app.running)
        await settle(app)
        save(app, "lab-lr-schedule")


SCENES = (
    baseline,
    vanishing,
    batches,
    exploding,
    signal,
    weights,
    boundary,
    watch,
    overview,
    batching,
    regularization,
    ensemble,
    errors,
    stepping,
    search,
    continued,
    lr_find,
)
"""Every picture's scene, in the order they are made."""


async def main(names: list[str]) -> None:
    """Make every scene's pictures, or only those of the scenes named."""
    unknown = set(names) - {scene.__name__ for scene in SCENES}
    if unknown:
        raise SystemExit(f"no scene {', '.join(sorted(unknown))}; the scenes: "
                         + ", ".join(scene.__name__ for scene in SCENES))  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # so that the run directories read runs/<time>-<preset>
        root = Path("runs")
        for scene in SCENES:
            if not names or scene.__name__ in names:
                await scene(root)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
