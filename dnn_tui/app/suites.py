"""Suites in the dashboard (``u``): a suite's presets run one after the other with the form's
dataset, each with its own epochs unless the user changed the form's, then the comparison
of their runs opens (a suite of seeds, ``ensemble``, also evaluates them there as one
ensemble). A mixin of ``DnnApp``; the
runs themselves are driven by ``SuiteRunner``.
"""

from __future__ import annotations

from pathlib import Path

from dnn_tui.app.screens.suite_picker import SuitePickerScreen
from dnn_tui.app.suite_runner import SuiteRunner


class Suites:
    """The suite actions; the app supplies ``running``, ``local``, ``lab``, ``run_root``,
    ``_launch``, ``notify`` and ``push_screen``."""

    suite: SuiteRunner | None = None
    """The suite going on, if any."""

    def action_run_suite(self) -> None:
        """Pick a suite: its presets run one after the other, then their comparison opens."""
        if self.running and self.local:
            self.notify("A run is going: stop it (s) first.", title="Suite not started")
        else:
            self.push_screen(SuitePickerScreen(), self._start_suite)

    def _start_suite(self, name: str | None) -> None:
        config = self.lab.form_config() if name is not None else None
        if name is not None and config is not None:
            suite = SuiteRunner.start(
                name,
                config,
                self.run_root,
                self._launch,
                self.notify,
                self._compare_suite,
                epochs_changed=self.lab.config_form.epochs_changed,
            )
            self.suite = suite if suite is not None and suite.current is not None else None

    def _compare_suite(self, runs: list[Path]) -> None:
        from dnn_tui.app.screens.compare import CompareScreen  # not needed for the first frame

        ensemble = self.suite is not None and self.suite.ensemble
        self.suite = None
        if runs:
            self.push_screen(CompareScreen(self.run_root, select=runs, ensemble=ensemble))
