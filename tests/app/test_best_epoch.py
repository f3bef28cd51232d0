"""One meaning of best in the dashboard: the runs list and the compare screen's differences
table show the best epoch's (lowest validation loss) validation and test accuracy, and the
top validation accuracy of any epoch only under its own name."""

from __future__ import annotations

from pathlib import Path

from dnn_tui.app.app import DnnApp
from dnn_tui.app.widgets.difference_table import DifferenceTable
from dnn_tui.app.widgets.run_list import COLUMNS, RunList
from dnn_tui.training.numbers import fmt_acc
from tests.helpers.app import TINY, open_list
from tests.helpers.run_files import SPLIT_BEST, make_split_best


async def test_the_runs_list_and_the_differences_agree_with_the_best_epoch(tmp_path: Path) -> None:
    make_split_best(tmp_path / "split")
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(pilot, 1)
        run_list = screen.query_one(RunList)
        cells = dict(zip(COLUMNS, (str(c) for c in run_list.get_row_at(0)), strict=True))
        assert cells["best val"] == fmt_acc(SPLIT_BEST.best_val_acc)
        assert cells["test"] == fmt_acc(SPLIT_BEST.test_acc)

        await pilot.press("space", "3")
        table = screen.query_one(DifferenceTable)
        rows = {
            str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)
        }
        assert rows["best epoch"] == str(SPLIT_BEST.best_epoch)
        assert rows["best val accuracy"] == fmt_acc(SPLIT_BEST.best_val_acc)
        assert rows["test accuracy"] == fmt_acc(SPLIT_BEST.test_acc)
        assert rows["top val accuracy"] == fmt_acc(SPLIT_BEST.max_val_acc)
