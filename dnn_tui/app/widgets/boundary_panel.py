"""BoundaryPanel: the decision regions of a 2-D run, redrawn as it trains.

The class the network predicts over the plane of the training points (the inputs as the
model sees them, standardised), with some of the training points on it: a point of one
colour in the other's region is a training point the network gets wrong. Half-block cells
in colour; under ``NO_COLOR`` one glyph per class for its region and the class's digit for
its points (``dnn_tui.analysis.regions`` draws both, as ``eval --boundary`` does).

The regions come from ``BoundaryMeasured``: the engine measures them only while this panel
is the one shown (``RunControls.boundary_wanted``), at most every
``engine.BOUNDARY_INTERVAL``; the panel keeps the latest and draws it when the screen
flushes. A run of another process (``watch``, a background run) measures them while any
dashboard shows them: a watching one asks it through control.jsonl (``RemoteControls
.want_boundary``), and the run logs one every ``recorder.LOG_BOUNDARY_INTERVAL``; until the
first comes, the panel says they are asked for, and how to draw a saved run's.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widget import Widget

from dnn_tui.analysis.regions import PLANE_DATASETS, legend_text, plane_caption, regions_text
from dnn_tui.app.widgets.gradient_panel import DIM
from dnn_tui.fileio import visible
from dnn_tui.training.events import BoundaryMeasured


class BoundaryPanel(Widget):
    """The predicted class over the plane of a 2-D dataset (``#boundary-panel``)."""

    def __init__(self, *, id: str = "boundary-panel") -> None:
        super().__init__(id=id)
        self.dataset: dict[str, Any] | None = None
        """The run's dataset summary (name, input_dim, classes), once it started."""
        self.latest: BoundaryMeasured | None = None
        self.followed = False
        """Whether the run is another process's (it measures the regions only for its own
        dashboard)."""
        self._dirty = False

    @property
    def plane(self) -> bool:
        """Whether the run's samples are points of a plane (True before a run: not known)."""
        return self.dataset is None or self.dataset.get("input_dim") == 2

    def reset(self, followed: bool) -> None:
        """A run was launched or opened: nothing measured yet."""
        self.dataset, self.latest, self.followed = None, None, followed
        self.refresh(layout=True)

    def start(self, dataset: dict[str, Any]) -> None:
        """The run started: its dataset says whether there is a plane to draw."""
        self.dataset = dataset
        self.refresh(layout=True)

    def show_boundary(self, event: BoundaryMeasured) -> None:
        self.latest = event
        self._dirty = True

    def flush(self) -> None:
        """Redraw if regions arrived since the last flush."""
        if self._dirty:
            self._dirty = False
            self.refresh(layout=True)

    def render(self) -> Text:
        if not self.plane and self.dataset is not None:
            name = visible(str(self.dataset.get("name", "")))
            return Text(
                f"Decision regions are drawn for 2-D data ({', '.join(PLANE_DATASETS)}); "
                f"{name} has {self.dataset.get('input_dim')} features per sample.",
                style="dim",
            )
        event = self.latest
        if event is None:
            if self.followed:
                return Text(
                    "Decision regions: asked of the run, shown as it logs them (every few "
                    "seconds while it trains); for a saved run: dnn-tui eval RUN_DIR --boundary",
                    style="dim",
                )
            return Text(
                "The decision regions of a 2-D run "
                f"({', '.join(PLANE_DATASETS)}) appear here while it trains.",
                style="dim",
            )
        colour = not self.app.no_color
        text = Text(no_wrap=True, overflow="crop")
        when = f"epoch {event.epoch}, step {event.step}" if event.epoch else "before the first step"
        text.append(f"decision regions · {when}\n", style="bold")
        text.append_text(regions_text(event.grid, event.points, colour))
        text.append("\n")
        classes = [str(index) for index in range(event.classes)]
        text.append_text(legend_text(classes, colour))
        text.append(f"\n{plane_caption(event.x_range, event.y_range)}", style=DIM)
        return text
