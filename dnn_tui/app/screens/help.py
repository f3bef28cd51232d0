"""HelpScreen: the key map, and per panel what it shows and what the lab's lessons look like in it.

The gradient and signal bands are quoted from ``widgets.gradient_panel`` and
``widgets.signal_panel``, and the probe's definitions from ``training.signal``, so the
text and the colours can never disagree.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown

from dnn_tui.app.screens.lab import MIN_SIZE, WIDE, XWIDE
from dnn_tui.app.widgets.gradient_panel import EXPLODING_ABOVE, SCALE, VANISHING_BELOW
from dnn_tui.app.widgets.signal_panel import COLLAPSING_BELOW, SHARE_ABOVE
from dnn_tui.app.widgets.signal_panel import EXPLODING_ABOVE as SIGNAL_EXPLODING_ABOVE
from dnn_tui.training.signal import HIST_BINS, PROBE_SAMPLES, SATURATED_ABOVE

HELP = f"""\
# dnn-tui: keys and panels

| key | what it does |
|---|---|
| `ctrl+r` | start a run with the form's settings (works even while typing) |
| `r` | start a run (when the focus is not in a text field) |
| `space` | pause / resume the running job |
| `s` | stop the running job after the current step (files are saved) |
| `c` | clipping on / off for the running job, from its next step |
| `+` / `-` | double / halve the clipping threshold |
| `a` | flip between the gradient panel and the signal panel (the forward signal) |
| `g` | model graph: the network node by node, with the latest gradients |
| `v` | the runs list; `space` selects runs to compare (curves, settings, gaps, gradients) |
| `u` | run a suite of presets with the form's dataset and epochs, then compare them |
| `?` | this help |
| `escape` | leave a text field (then the one-letter keys work again) |
| `tab` / `shift+tab` | move between fields; the tabs on small screens too |
| `ctrl+q` | quit (a running job is stopped first) |

Every change to a running job is recorded in that epoch's `events` in
`history.json` and shown in the epoch table's last column. A learning rate typed
in the form and confirmed with `enter` also reaches the running job.

## Run status
State (idle, loading, running, paused, stopping, finished, early-stopped, stopped,
diverged), epoch *k* of *N* with a bar through the current epoch, the learning rate
and clipping in force, samples per second, the epoch's running loss and accuracy,
elapsed time and ETA, then the dataset (with a note when `auto` fell back to the
bundled digits), the device and the run directory.

## Config form
The next run's settings, checked as you type with the command line's rules; an
invalid field turns red and its rule shows beneath it. A preset sets the model
and training settings and keeps your dataset and device.
A hidden layer narrower than the number of classes (`bottleneck`: 100,50,**3**)
squeezes everything through a few numbers: its accuracy stops well below the
baseline's however long it trains. That is the information bottleneck.

## Loss and accuracy
Training loss per progress report (smoothed) and validation loss per epoch;
training and validation accuracy per epoch; each with its current, lowest and
highest value. **Overfitting** looks like a training loss that keeps falling while
the validation loss turns up and the accuracies drift apart: try dropout, L2 or
early stopping. A **bottleneck** or vanishing gradients look like both curves
flattening early at a poor value.

## Epoch table
One row per epoch: training and validation loss and accuracy, the gradient norm
of the first and the last layer, the share of steps clipping changed, seconds, and
the controls applied in it. ★ marks the best epoch (lowest validation loss), whose
weights are restored at the end. Scroll with the arrow keys when it has focus.

## Gradient panel
One row per Linear layer, input side at the top: the norm of the layer's weight
gradient before clipping, as a bar on a log scale from 1e{SCALE[0]:.0f} to
1e{SCALE[1]:.0f}, the number and its history. Bands:

- **vanishing**, below {VANISHING_BELOW:g} (blue): the layer barely learns. In a deep
  sigmoid stack (`deep-sigmoid`) each layer passes back at most a quarter of the
  gradient, so the first rows sit millions of times below the last.
- **healthy**, from {VANISHING_BELOW:g} to {EXPLODING_ABOVE:g} (green): ReLU with He init
  (`deep-relu-he`) keeps the rows even.
- **exploding**, above {EXPLODING_ABOVE:g} (red): the steps overshoot and the loss soon
  becomes infinite (`exploding`); clipping (`c`, `exploding-clipped`) rescales the
  global norm to the threshold.

Under the rows: the global gradient norm before and after clipping, clipping ON or
OFF with its threshold, and the share of this epoch's steps that were clipped.

## Signal panel (`a`)
The forward signal, the cause of what the gradient panel shows: one row per hidden
layer, input side at the top, measured on a fixed batch of {PROBE_SAMPLES} training images
(without dropout, and without gradients) before the first step, about once a second and
at each epoch end. Each row: the layer's activations as a histogram strip of {HIST_BINS} bins
over the activation's range (`·` an empty bin), their **std** (how much a unit's output
changes from one image to the next: the square root of the units' mean variance across
the batch) and the share of **saturated** or **dead** units:

- **saturated** (sigmoid, tanh): the share of values in a flat end of the curve,
  |tanh| > {SATURATED_ABOVE:g} or a sigmoid below {1 - SATURATED_ABOVE:.2g} or above
  {SATURATED_ABOVE:g}, where the slope is nearly 0 and almost no gradient passes.
- **dead** (ReLU and its kind): the share of units that are zero (not positive) for every
  image of the probe batch; no gradient passes them at all.

Bands:

- **collapsing**, std below {COLLAPSING_BELOW:g} (blue): every image looks alike to the layers
  above. A deep tanh or ReLU stack with PyTorch's default init (`deep-tanh`, `deep-relu`)
  shrinks the signal by about half per layer, a sigmoid one (`deep-sigmoid`) faster still
  (its slope is at most 1/4); Xavier (`deep-tanh-xavier`) and He
  (`deep-relu-he`) keep each layer's output variance close to its input's, so the rows stay
  alike.
- **saturated** / **dead**, more than {100 * SHARE_ABOVE:.0f}% of the layer (amber): sigmoid
  units started from N(0, 1) (`deep-sigmoid-saturated`) sit at 0 or 1; batch norm
  (`deep-sigmoid-batchnorm`) re-centres and re-scales each layer's input, and none saturate.
- **exploding**, std above {SIGNAL_EXPLODING_ABOVE:g} (red): weights too large for the activation
  (`exploding`) make the signal grow layer after layer.
- **healthy**, the rest (green).

The std history shows each layer's std over the run (log scale). `history.json` keeps the
figures before the first step (`initial`) and at each epoch end.

## Model graph (`g`)
Input -> Affine (W, b) -> [BatchNorm (gamma, beta)] -> activation -> [Dropout] ->
... -> Softmax -> cross-entropy loss, each node with its output shape, parameters
and, once a run goes, the latest gradient norm of each parameter and the std σ of each
activation's output (coloured by the signal band); then the Keras-style summary with the
total parameter count.

## Runs list and comparison (`v`)
Every run under the runs folder (`--runs DIR`, default `./runs`), suites' and sweeps'
subfolders included, with its status (running, interrupted when its process is gone,
completed, early_stopped, stopped, diverged, failed, or damaged with the file and the
reason), epochs, best validation and test accuracy and the train-validation gap. Running
runs update every few seconds. `space` selects up to eight runs for the figures, each
with its own marker and colour: accuracy per epoch (`1`, training as hollow points,
validation as a line of filled points, ★ the best epoch), loss (`2`, `l` log/linear),
the settings that differ and the gaps at the last and best epoch (`3`), and a heat-strip
of gradient norms per layer and epoch (`4`). `z` changes what the y-range fits (the last
half of the epochs, epoch 2 on, every epoch). `h` hides a run, `H` shows the hidden ones,
`/` filters; `enter` opens a run in the lab, `f` puts its config into the form, `e`
exports the selected runs as one CSV, `d` deletes a run after asking. The lesson: L2 and
dropout narrow the gap between the hollow (training) and filled (validation) points of
the baseline; the bottleneck ends below all of them.

## Suites (`u`)
A suite runs its presets one after the other with the form's dataset and epochs
(`regularization`: baseline, l2, dropout, bottleneck; `gradients`; `batching`;
`clipping`; `depth`), saved like `dnn-tui suite` under `runs/<time>-suite-NAME/`, and
opens their comparison when the last one ends. `s` stops the run and the rest of the suite.

## Small terminals
Below {WIDE[0]} columns or {WIDE[1]} rows the lab shows one region at a time behind tabs
(Setup, Train, Gradients; `a` turns the third into Signal and back); from {XWIDE} columns
the table and the gradients sit side by side, with the signal panel under the gradients;
below {MIN_SIZE[0]}x{MIN_SIZE[1]} it asks for a larger terminal.
"""


class HelpScreen(Screen[None]):
    """The key map and a paragraph per panel (``?``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "app.pop_screen", "back", key_display="esc")
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP, id="help-text")
        yield Footer()
