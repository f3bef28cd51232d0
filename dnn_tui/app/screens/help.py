"""HelpScreen: the key map, and per panel what it shows and what the lab's lessons look like in it.

It also states the dashboard's choices (how curves are scaled, where notices go,
how the speed is smoothed, how an edited preset is named). The numbers are quoted
from the modules that use them (gradient and signal bands, the probe's definitions,
notice times, smoothing), so the text and the screen can never disagree.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown

from dnn_tui.app.keys import keys_markdown
from dnn_tui.app.pace import SMOOTHING_S
from dnn_tui.app.screens.lab import MIN_SIZE, WIDE, XWIDE
from dnn_tui.app.widgets.gradient_panel import SCALE
from dnn_tui.app.widgets.run_status import NOTICE_S
from dnn_tui.training.activations import HIST_BINS, PROBE_SAMPLES
from dnn_tui.training.lessons import (
    CONVERGED_BELOW,
    EXPLODING_RATIO,
    GRADIENT_EXPLODING_ABOVE,
    SATURATED_ABOVE,
    SHARE_ABOVE,
    SIGNAL_COLLAPSING_BELOW,
    SIGNAL_EXPLODING_ABOVE,
    UPDATE_EXPLODING_ABOVE,
    UPDATE_SLOW_BELOW,
    VANISHING_RATIO,
)

HELP = f"""\
# dnn-tui: keys and panels

{keys_markdown()}

While a text field has the focus the footer shows only the keys that still act
there (`ctrl+r`, `escape`, `ctrl+q`): the others type their character. A focused
scroll area shows a heavy edge. A learning rate typed in the form and confirmed
with `enter` also reaches the running job.

## Notices
Messages (the dataset `auto` fell back to, a start refused, a learning rate sent to
the running job, a failed run) appear on the notice line under the run status,
starting with `note:`, `warning:` or `error:`; they never cover a panel. A note goes
after {NOTICE_S["information"]:.0f} s, a warning after {NOTICE_S["warning"]:.0f} s, an
error after {NOTICE_S["error"]:.0f} s; what they report stays on screen elsewhere (the
state line, the dataset line, the form's error lines). In small terminals a notice
takes the lesson's line while it shows.

## Run status
State (idle, loading, running, paused, stopping, finished, early-stopped, stopped,
diverged, failed), epoch *k* of *N*, step *s* of *S* in this epoch with a bar, the
learning rate and clipping in force. Then samples per second, time per step (as
the Keras log writes `12 ms/step`), ETA, elapsed time and the epoch's running mean loss
and accuracy (`epoch mean loss`: the mean over this epoch's steps so far, what the epoch
table's row will say; the loss sparkline's `now` is the latest steps' mean); then the
dataset, the device and the run folder; then the lesson: what the experiment shows (the
preset's description; `g` shows it whole).

A **full-batch** run (`full-batch`, batch size `full`) counts step 1 of 1: one epoch
is one step, one gradient of the whole training set. Mini-batches take many
noisier steps an epoch (`small-batch`: batches of 10) and get further in a few epochs.

**Smoothed speed**: samples/s is a moving average of the speed between progress
reports (as tqdm smooths its rate) over about the last {SMOOTHING_S:.0f} seconds or the
last epoch, whichever is shorter, so it holds still between reports and follows a
real change within seconds; time per step is one batch at that speed. The ETA is the
training samples left at that speed plus the validations left at their average
time; with early stopping on it is an upper bound (`≤`).

**The first epoch is slower.** PyTorch's first steps set up memory, kernels and its
thread pool (a few milliseconds), and while the dashboard draws its first frames,
the screen's thread competes for the CPU with PyTorch's threads: a step waits for
all of them, so on a machine with few cores the steps of the first second can take
many times longer (`benchmarks/first_epoch.py` measures it). Later epochs show the
steady pace; the line under the epoch table says so when epoch 1 was slow.

## Config form
The next run's settings, checked as you type with the command line's rules; an
invalid field turns red and its rule shows beneath it. Rows that matter only for
some choices appear with them: the IDX files for `idx`, the data folder for the
downloaded datasets (`auto`, `mnist` ...), the standard deviation for `init normal`.
`hidden` takes `100,50,20`; `64x10` is ten layers of 64. Switches say `on` or `off`.

A preset sets the model and training settings and keeps your dataset and device.
The picker follows the fields: it names the preset whose experiment they hold
(model and training settings; seed and device aside), so the defaults are
`baseline`. Change a field of a preset and it reads `deep-sigmoid (edited)`: the
run is saved as `runs/<time>-deep-sigmoid-edited`, with `preset = "deep-sigmoid
(edited)"` in its config, so no folder or list claims a preset's name for another
experiment. Fields that match no preset read `(custom)`.

A hidden layer narrower than the number of classes (`bottleneck`: 100,50,**3**)
squeezes everything through a few numbers: its accuracy stops well below the
baseline's however long it trains. That is the information bottleneck.

## Loss and accuracy
Training and validation loss, training and validation accuracy, each with its
current, lowest and highest value. All four share one x axis, as TensorBoard draws
every scalar against the step: training progress from the first step (left) to now
(right), in epochs. Training loss is measured per progress report (the mean of the
steps since the previous one, about ten a second); validation loss and both
accuracies at the end of each epoch, a value holding until the next one.

Loss is drawn on a log scale (it falls over decades: a first loss of 1e3 would
flatten everything after it on a linear one); accuracy on a linear one within 0% to
100%. A curve spans at least a factor of 1.26 (a tenth of a decade) of loss or 10
points of accuracy, centred on its values, so noise smaller than that draws flat
instead of looking like a trend (`deep-sigmoid`'s loss between 2.303 and 2.315 is
flat). The two accuracy rows share one range, so the gap between them is drawn as it
is; each loss row has its own, so validation loss's turn stays visible however far
training loss falls, and its lowest cell is shown reversed. **Overfitting** looks like
a training loss that keeps falling while the validation loss turns up past that mark
and the accuracies drift apart:
try dropout, L2 or early stopping. A **bottleneck** or vanishing gradients look like
both curves flattening early at a poor value.

## Epoch table
One row per epoch: training and validation loss and accuracy, the learning rate,
the gradient norm of the first and the last layer, the share of steps clipping
changed, seconds, and the controls applied in it. Columns have fixed widths; a
number too long for one is written `2.49e7`. ★ marks the best epoch (lowest
validation loss), whose weights are restored at the end; the line under the table
names it however far it has scrolled.

The second line under the table lists control changes in full: those of the epoch
in progress as they are applied (like the lines the Keras log prints during an
epoch); they join the epoch's row when it ends. With the focus on the table (tab),
the arrows move through the rows and the line lists the highlighted epoch's changes.

## Gradient panel
One row per Linear layer, input side at the top: the norm of the layer's weight
gradient before clipping, as a bar on a log scale from 1e{SCALE[0]:.0f} to
1e{SCALE[1]:.0f}, the number and its history. The bands follow the lesson: the
vanishing gradient is a *ratio*, the gradient shrinking as it travels back toward the
input, so each layer is judged against the layers after it (nearer the output), not by
an absolute size (which would judge the loss):

- **vanishing** (blue): below {VANISHING_RATIO:g} times the largest gradient among the layers
  after it: the layer barely learns. In a deep sigmoid stack (`deep-sigmoid`) each layer
  passes back at most a quarter of the gradient, so the first rows sit millions of times
  below the last. The output layer is the reference, never vanishing.
- **exploding** (red): its update ratio (the latest step's change of its weights over
  their norm, see the weight panel) above {UPDATE_EXPLODING_ABOVE:g}, or its gradient more than
  {EXPLODING_RATIO:g} times the largest after it, or not finite: the steps overshoot and the loss
  soon becomes infinite (`exploding`); clipping (`c`, `exploding-clipped`) rescales the
  global norm to the threshold, so its large gradients take small steps. Where no update
  ratio is known (an older run), a gradient above {GRADIENT_EXPLODING_ABOVE:g} stands in.
- **converged** (teal): every gradient below {CONVERGED_BELOW:g} and none vanishing: small and
  even, the loss is near a minimum (a baseline trained long). Not a vanishing gradient.
- **healthy** (green): the rest; ReLU with He init (`deep-relu-he`) keeps the rows even.

The line under the rows says what the whole stack reads as (the layers that vanish or
explode, or converged). The same rule colours the model graph (`g`), the comparison's
heat-strips and `train`'s closing lines.

With batch norm (`batchnorm`) each row also shows the gradient of the BatchNorm
after the layer: γ (its scale) and β (its shift). Under the rows: the global
gradient norm before and after clipping, clipping ON or OFF with its threshold, and
the share of this epoch's steps that were clipped.

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

- **collapsing**, std below {SIGNAL_COLLAPSING_BELOW:g} (blue): every image looks alike to the
  layers above. A deep tanh or ReLU stack with PyTorch's default init (`deep-tanh`, `deep-relu`)
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

## Weight panel (`a`, twice)
The weights, half of what a layer is: one row per Linear layer, input side at the top,
with the histogram of its weights as a strip (from -2 to +2 times the layer's largest
initial |w|, fixed for the run, measured before the first step and at each epoch end),
**‖W‖** (the L2 norm of the weight matrix, the number L2 regularisation keeps small:
compare `l2` with `baseline`), the **update ratio** (the norm of the latest measured
step's change of the weights over ‖W‖; about 1e-3 is healthy, below {UPDATE_SLOW_BELOW:g}
the layer hardly moves (**slow**, `deep-sigmoid`'s first layers), above
{UPDATE_EXPLODING_ABOVE:g} a step overshoots (**exploding**)), and the history of ‖W‖.

`i` shows the signal and the weights **at the start** (before the first step) beside
the current ones: the lessons of Xavier and He (`deep-tanh-xavier`, `deep-relu-he`) speak
of the signal at initialisation, which training then changes.

## Decision regions (`a`, three times, 2-D data)
For `moons`, `circles` and `spiral`: the class the network predicts over the plane of its
training points, each half block a cell of the grid in its class's colour, with training
points on it as dots (under `NO_COLOR`: a glyph per class, the class's digit for a point). A
dot in another class's region is a point the network gets wrong. Measured only while shown,
redrawn with the other panels: `circles-linear` keeps one straight line, `circles-hidden`
closes around the inner disc, `spiral-deep` follows the arms that `spiral-shallow` cuts.

## Model graph (`g`)
The lesson in full, then Input -> Affine (W, b) -> [BatchNorm (γ, β)] -> activation
-> [Dropout] -> ... -> Softmax -> cross-entropy loss, each node with its output
shape, parameters and, once a run goes, the latest gradient norm of each parameter and
the std σ of each activation's output (coloured by the signal band); then the Keras-style
summary with the total parameter count. Shapes are written as
Keras writes them: `(None, 100)`, None being the batch dimension.

A Linear bias followed by BatchNorm shows a gradient of about 1e-8, marked `BN`
and not coloured as vanishing: BatchNorm subtracts the batch mean, which cancels any
constant the bias adds, so its gradient is zero up to rounding. It is not a layer
that barely learns but a parameter with nothing to do; β takes its role.

A paused run adds one sample's pass below the graph, node by node, forward and backward;
`[` and `]` ask the run for the previous or next sample's (a watched run sends it in its
trace.json).

## Runs list and comparison (`v`)
Every run under the runs folder (`--runs DIR`, default `./runs`), suites' and sweeps'
subfolders included, with its status (running, interrupted when its process is gone,
completed, early_stopped, stopped, diverged, pruned, failed, or damaged with the file and the
reason), epochs, the best epoch's validation and test accuracy and the train-validation
gap; best is always the ★ epoch (lowest validation loss, whose weights are kept and
tested), and the top validation accuracy of any epoch is named apart. Running
runs update every few seconds. `space` selects up to eight runs for the figures, each
with its own marker and colour: accuracy per epoch (`1`, training as hollow points,
validation as a line of filled points, ★ the best epoch), loss (`2`, `l` log/linear),
the settings that differ, the gaps at the last and best epoch, the best epoch's
accuracies and the top validation accuracy (`3`), a heat-strip of gradient norms per layer
and epoch, each row ending in its band in the last epoch (`4`), each layer's weight norm
‖W‖ in the last epoch against where it started (`5`: `l2`'s weights stay smaller than
`baseline`'s), and the test accuracy class by class (`6`). `z` changes what the y-range
fits (the last half of the epochs, epoch 2 on, every epoch); `a` draws them against epochs,
optimizer steps taken or training samples seen: `full-batch`'s 200 epochs are 200 steps,
fewer than the baseline takes in one epoch. `h` hides a run, `H` shows the hidden ones,
`/` filters; `enter` opens a run in the lab, `f` puts its config into the form, `e`
exports the selected runs as one CSV, `d` deletes a run after asking. `m` evaluates the
selected runs as one ensemble: their softmax outputs averaged on their shared test split,
beside the mean member's accuracy (runs of another dataset or split are refused). The
lesson: L2 and dropout narrow the gap between the hollow (training) and filled
(validation) points of the baseline; the bottleneck ends below all of them.

## Suites (`u`)
A suite runs its presets one after the other with the form's dataset, each for its own
epochs (full-batch 200, the others 20) unless you changed the form's epochs: then every
preset runs those and is named `NAME (edited)` (`regularization`: baseline, l2, dropout,
bottleneck; `gradients`; `batching`; `clipping`; `depth`; `ensemble`: the baseline with
seeds 0, 1, 2; `circles` and `spiral`, whose 2-D presets keep their own dataset), saved
like `dnn-tui suite` under `runs/<time>-suite-NAME/`, and opens their comparison when the
last one ends (`ensemble` with its runs evaluated as one ensemble).
`s` stops the run and the rest of the suite.

## Leaving
`ctrl+q` stops this dashboard's own running job (it saves what it did; a background or
watched run goes on) and quits; the terminal then
keeps a summary of every run of the session, as `dnn-tui train` prints it: the run
folder, its status, the best epoch with its validation loss and accuracy, and the
test accuracy.

## Small terminals
Below {WIDE[0]} columns or {WIDE[1]} rows the lab shows one region at a time behind tabs
(Setup, Train, Gradients; keys `1`, `2`, `3`; `a` turns the third into Signal, Weights,
Boundary for 2-D data, and back); from {XWIDE} columns the table and the gradients sit side
by side, with the signal panel (or, after `a`, the weight panel or the regions) under the
gradients; below
{MIN_SIZE[0]}x{MIN_SIZE[1]} it asks for a larger terminal.
"""


class HelpScreen(Screen[None]):
    """The key map and a paragraph per panel (``?``)."""

    AUTO_FOCUS = "#help-body"
    """The text has the focus: arrows and PageUp/PageDown scroll it at once."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "app.pop_screen", "back", key_display="esc")
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP, id="help-text")
        yield Footer()
