"""Validation loss keeps its overfitting turn visible: each loss row has its own range (a
training loss falling over decades no longer flattens validation's upturn) and the
validation row marks its lowest cell; the accuracy rows still share one range."""

from __future__ import annotations

from pathlib import Path

from dnn_tui.app.app import DnnApp
from dnn_tui.app.curves import lowest_cell
from dnn_tui.app.widgets.sparkline_row import LOWEST_STYLES
from tests.helpers import scripted


def test_lowest_cell_is_the_first_cell_of_the_lowest_value() -> None:
    assert lowest_cell([None, 3.0, 2.0, 2.0, 2.5]) == 2
    assert lowest_cell([None, None]) is None
    assert lowest_cell([]) is None
    assert lowest_cell([1.0, 1.0]) == 0


async def test_validation_loss_turns_up_visibly_under_a_falling_training_loss(
    tmp_path: Path,
) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        pair = app.lab.loss_sparklines
        # Training loss falls over four decades; validation bottoms out at epoch 4, then
        # rises by a third: overfitting.
        val = [0.60, 0.45, 0.40, 0.38, 0.42, 0.46, 0.50]
        for epoch, loss in enumerate(val, start=1):
            pair.add_train(10.0 ** (-epoch * 4 / len(val)), float(epoch))
            pair.add_val(loss, float(epoch))
            pair.advance(float(epoch))
        pair.flush()
        await pilot.pause()
        heights = [h for h in pair.val.heights if h is not None]
        lowest = pair.val.lowest
        assert lowest is not None and pair.val.heights[lowest] == min(heights)
        assert heights[-1] - min(heights) >= 3  # the upturn spans several bar heights
        spans = [s for s in pair.val.render().spans if s.style == LOWEST_STYLES[True]]
        assert len(spans) == 1

        accuracy = app.lab.accuracy_sparklines
        for epoch in range(1, 4):
            accuracy.add_train(0.5 + 0.1 * epoch, float(epoch))
            accuracy.add_val(0.5, float(epoch))
            accuracy.advance(float(epoch))
        accuracy.flush()
        await pilot.pause()
        # One range for both accuracy rows: the flat validation row sits below training.
        val_heights = [h for h in accuracy.val.heights if h is not None]
        train_heights = [h for h in accuracy.train.heights if h is not None]
        assert val_heights and max(val_heights) < max(train_heights)
        assert accuracy.val.lowest is None
