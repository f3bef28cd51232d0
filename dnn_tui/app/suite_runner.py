"""SuiteRunner: a suite's presets run one after the other from the dashboard, then compared.

Runs without Textual: the app hands it a ``launch`` function (start one run in the
worker, as ``r`` does) and calls ``run_ended`` when each run's worker ends. The runs go
where ``dnn-tui suite`` puts them, ``<runs folder>/<time>-suite-NAME/<preset>/``, with
the form's dataset (a preset made for 2-D data keeps its own) and device, and each
preset's own epochs unless the user changed the form's (every preset then runs those,
named ``NAME (edited)`` in its config, as an edited preset is everywhere); every preset's
config is checked before the first run starts. The suite ends after its last run, when a
run is stopped, or when another run is started by hand; ``finished`` then gets the runs it
made (none in the last case: the user moved on). A suite of seeds (``ensemble``) names its
runs ``<preset>-seed<N>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from dnn_tui.analysis.regions import PLANE_DATASETS
from dnn_tui.config import ConfigError, RunConfig, option_value, validate, with_options
from dnn_tui.presets import EDITED, SUITE_SEEDS, load_preset, suite_runs
from dnn_tui.training.status import Status

FORM_OPTIONS = (
    "dataset",
    "data_dir",
    "idx_images",
    "idx_labels",
    "limit",
    "split_seed",
    "device",
)
"""What every preset of a suite takes from the form (as ``dnn-tui suite`` from its options)."""


def suite_configs(
    name: str, form: RunConfig, *, epochs_changed: bool = False
) -> list[tuple[str, RunConfig]]:
    """(run folder, config) of every run of the suite: its preset with the form's data (a 2-D
    preset keeps its dataset) and device (and the suite's seed, where it sets one); with
    ``epochs_changed`` (the user changed the form's epochs) the form's epochs too, and a
    preset whose own epochs differ is then ``NAME (edited)`` in its config. ConfigError
    names the preset whose config is invalid."""
    options = {option: option_value(form, option) for option in FORM_OPTIONS}
    if epochs_changed:
        options["epochs"] = form.train.epochs
    configs = []
    for run in suite_runs(name):
        try:
            own = load_preset(run.preset)
            config = validate(with_options(own, _taken(own, options)))
        except ConfigError as error:
            raise ConfigError(f"preset {run.preset}: {error}") from None
        if config.train.epochs != own.train.epochs:
            config = replace(config, preset=run.preset + EDITED)
        if run.seed is not None:
            config = replace(config, train=replace(config.train, seed=run.seed))
        configs.append((run.name, config))
    return configs


DATA_SOURCE = ("dataset", "data_dir", "idx_images", "idx_labels")
"""The form's options that say which data: a 2-D preset's own dataset replaces them."""


def _taken(preset: RunConfig, options: dict[str, object]) -> dict[str, object]:
    """The form's options a preset takes: a preset made for 2-D data keeps its dataset (its
    lesson is about that data), and with it the options of where other data comes from."""
    if preset.data.dataset not in PLANE_DATASETS:
        return options
    return {key: value for key, value in options.items() if key not in DATA_SOURCE}


class SuiteRunner:
    """One suite going on in the dashboard."""

    def __init__(
        self,
        name: str,
        configs: list[tuple[str, RunConfig]],
        root: Path,
        launch: Callable[[RunConfig, Path], bool],
        notify: Callable[..., None],
        finished: Callable[[list[Path]], None],
    ) -> None:
        self.name = name
        self.configs = configs
        self.root = root
        """The suite's folder: ``<runs folder>/<time>-suite-NAME``."""
        self.done: list[Path] = []
        """The run directories of the runs that ended, in order."""
        self.current: Path | None = None
        """The run directory of the run going on."""
        self._index = -1
        self._launch, self._notify, self._finished = launch, notify, finished
        self.ensemble = name in SUITE_SEEDS
        """Whether the suite's runs end as one ensemble (a suite of seeds)."""

    @classmethod
    def start(
        cls,
        name: str,
        form: RunConfig,
        run_root: Path,
        launch: Callable[[RunConfig, Path], bool],
        notify: Callable[..., None],
        finished: Callable[[list[Path]], None],
        *,
        epochs_changed: bool = False,
    ) -> SuiteRunner | None:
        """Check every config, make the suite's folder and start its first run; None (and a
        notification naming the preset or folder) when that cannot be done."""
        from dnn_tui.rundir.recorder import ClaimError, make_new_dir

        try:
            configs = suite_configs(name, form, epochs_changed=epochs_changed)
            root = make_new_dir(f"suite-{name}", run_root)
        except (ConfigError, ClaimError, OSError) as error:
            notify(str(error), title="Suite not started", severity="error")
            return None
        runner = cls(name, configs, root, launch, notify, finished)
        runner._next()
        return runner

    def _next(self) -> None:
        self._index += 1
        if self._index >= len(self.configs):
            self._end()
            return
        folder, config = self.configs[self._index]
        self.current = self.root / folder
        # NAME (edited) says more than the folder; baseline-seed1 more than the preset.
        label = config.preset if (config.preset or "").startswith(folder) else folder
        self._notify(
            f"run {self._index + 1} of {len(self.configs)}: {label} "
            f"({config.data.dataset}, {config.train.epochs} epochs)",
            title=f"Suite {self.name}",
        )
        if not self._launch(config, self.current):
            self._end()

    def _end(self, runs: list[Path] | None = None) -> None:
        self.current = None
        self._finished(self.done if runs is None else runs)

    def run_ended(self, run_dir: Path | None, status: str) -> None:
        """A run's worker ended with status; the next run starts, or the suite ends."""
        if self.current is None:
            return
        if run_dir != self.current:  # a run started by hand took the suite's place: no comparison
            self._end([])
            return
        if run_dir.is_dir():
            self.done.append(run_dir)
        if status == Status.STOPPED:  # stopped by the user: the rest of the suite too
            self._end()
        else:
            self._next()
