"""A run keeps its marker on every screen: its style comes from its preset's name, the same
in the runs list (``v``), the compare screen and ``dnn-tui compare``, whatever the order."""

from __future__ import annotations

from dnn_tui.analysis.figures import STYLES, pick_style, pick_styles, preferred_style
from dnn_tui.presets import SUITES


def test_the_runs_of_a_suite_never_compete_for_a_marker() -> None:
    for presets in SUITES.values():
        assert len({preferred_style(name) for name in presets}) == len(presets), presets


def test_the_order_runs_are_given_in_does_not_change_their_markers() -> None:
    suite = list(SUITES["regularization"])
    forward = dict(zip(suite, pick_styles(suite), strict=True))
    alphabetical = sorted(suite)  # as a shell's glob gives them to dnn-tui compare
    assert dict(zip(alphabetical, pick_styles(alphabetical), strict=True)) == forward
    assert forward["baseline"] == STYLES[0]


def test_an_edited_preset_or_a_sweep_run_prefers_its_base_and_yields_when_taken() -> None:
    assert preferred_style("l2 (edited)") == preferred_style("l2")
    assert preferred_style("l2 lr=0.1 seed=2") == preferred_style("l2")
    taken = {preferred_style("l2")}
    assert pick_style("l2 lr=0.1", taken) not in taken
    assert pick_style("custom-run", set()) == preferred_style("custom-run")  # stable, any name
