"""Damaged run files: the one loader (``runs.load_run``, ``runs.read_history``) refuses every
class of damage with a RunError naming the file, the field and the rule, never another
exception, never a hang on a special file and never a read of a huge one.

Each class is tested with the examples that once crashed ``compare`` and ``eval``
(``"test": [1]``, ``"val_acc": "x"``, a FIFO, a symlink to /dev/zero) and further members.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnn_tui.rundir import files as runs
from dnn_tui.rundir.files import (
    MAX_CONFIG_BYTES,
    MAX_CSV_BYTES,
    MAX_HISTORY_BYTES,
    MAX_WEIGHTS_BYTES,
    RunError,
    dumps_history,
    load_run,
    load_weights,
    read_history,
)
from dnn_tui.training.status import RECORDED
from tests.helpers.run_files import DATASET

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "regularization-mnist" / "baseline"


def quickly(function: Callable[..., Any], *args: Any, timeout: float = 10.0) -> Any:
    """function(*args) in a thread that must end within timeout (a FIFO must not block)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # handed back to the test below
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"{function.__name__} blocked for {timeout} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """A real run directory (the MNIST baseline, 20 epochs) with small real weights."""
    from safetensors.torch import save
    from torch import zeros

    path = tmp_path / "run"
    shutil.copytree(FIXTURE, path)
    (path / "model.safetensors").write_bytes(save({"fc1.weight": zeros(3, 2)}))
    return path


def history_of(run: Path) -> dict[str, Any]:
    return json.loads((run / "history.json").read_text())


def edit_history(run: Path, change: Callable[[dict[str, Any]], None]) -> None:
    history = history_of(run)
    change(history)
    (run / "history.json").write_text(json.dumps(history))


def refused(run: Path, file: str, rule: str, field: str | None = None) -> RunError:
    """load_run(run) raises a RunError for run/file (and field) whose rule matches."""
    with pytest.raises(RunError) as caught:
        quickly(load_run, run)
    error = caught.value
    target = run if file == "." else run / file
    assert error.file == target, str(error)
    assert str(target) in str(error)
    assert error.rule is not None and re.search(rule, error.rule), str(error)
    if field is not None:
        assert error.field == field, str(error)
        assert f": {field}: " in str(error)
    return error


def test_the_fixture_loads(run: Path) -> None:
    saved = load_run(run)
    assert saved.history == history_of(run)
    assert saved.weights == run / "model.safetensors"


# --- missing files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "damage", "rule"),
    [
        (".", shutil.rmtree, "no such run directory"),
        ("config.toml", Path.unlink, "missing"),
        ("history.json", Path.unlink, "missing; the run wrote no history"),
        ("history.csv", Path.unlink, "missing"),
    ],
)
def test_missing_files(run: Path, file: str, damage: Callable[[Path], None], rule: str) -> None:
    damage(run if file == "." else run / file)
    refused(run, file, rule)


def test_a_running_run_may_lack_history_csv_for_a_moment(run: Path) -> None:
    """The recorder writes history.csv just after history.json."""
    edit_history(run, lambda h: h.update(status="running"))
    (run / "history.csv").unlink()
    assert load_run(run).history["status"] == "running"


def test_missing_weights_are_no_damage(run: Path) -> None:
    (run / "model.safetensors").unlink()
    assert load_run(run).weights is None


# --- truncated files ---------------------------------------------------------------------------


def cut(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def cut_csv_rows(path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))


@pytest.mark.parametrize(
    ("file", "damage", "rule"),
    [
        ("history.json", lambda p: cut(p, 0.5), r"not valid JSON \(truncated or damaged\)"),
        ("history.json", lambda p: cut(p, 0.0), "empty"),
        ("config.toml", lambda p: cut(p, 0.3), "not valid TOML"),
        ("history.csv", lambda p: cut(p, 0.5), r"cells where the header has 10 \(truncated\?\)"),
        ("history.csv", cut_csv_rows, "19 epoch rows, but history.json has 20 epochs"),
        ("history.csv", lambda p: cut(p, 0.0), "header row is missing"),
        ("model.safetensors", lambda p: cut(p, 0.8), r"bytes where its header describes"),
        ("model.safetensors", lambda p: cut(p, 0.05), "no valid header"),
    ],
)
def test_truncated_files(run: Path, file: str, damage: Callable[[Path], None], rule: str) -> None:
    damage(run / file)
    refused(run, file, rule)


# --- wrongly typed fields ------------------------------------------------------------------------


def setter(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(history: dict[str, Any]) -> None:
        target: Any = history
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


WRONG_TYPES = [
    # The examples that crashed compare and eval, then more of the class.
    (setter("test", value=[1]), "test", "must be a JSON object or null"),
    (setter("epochs", 3, "val_acc", value="x"), "epochs[3].val_acc", "must be a number from 0"),
    (setter("epochs", value={}), "epochs", "must be a list of epoch records"),
    (setter("best_epoch", value="3"), "best_epoch", "must be an integer of at least 1 or null"),
    (setter("best_epoch", value=99), "best_epoch", "must be the number of a recorded epoch"),
    (setter("epochs", 0, "grad_norm", value=1.0), "epochs[0].grad_norm", "list of 4 norms"),
    (setter("epochs", 0, "grad_norm", 2, value="big"), "epochs[0].grad_norm[2]", "number"),
    (setter("layers", value="fc1"), "layers", "must be a list of layer names"),
    (setter("status", value=3), "status", "must be one of running, completed"),
    (setter("dataset", "name", value=5), "dataset.name", "must be a string"),
    (setter("dataset", "train", value=-1), "dataset.train", "must be an integer"),
    (setter("epochs", 1, "train_acc", value=True), "epochs[1].train_acc", "got true"),
    (setter("epochs", 2, "val_acc", value=1.5), "epochs[2].val_acc", "from 0 to 1"),
    (setter("epochs", 2, "val_loss", value=-0.5), "epochs[2].val_loss", "of at least 0"),
    (setter("epochs", 0, "epoch", value=0), "epochs[0].epoch", "integer of at least 1"),
    (setter("epochs", 4, "epoch", value=3), "epochs[4].epoch", "must follow epoch 4"),
    (setter("epochs", 5, "events", value={}), "epochs[5].events", "must be a list"),
    (setter("epochs", 5, "events", value=[{"kind": "lr"}]), "epochs[5].events[0].step", "integer"),
    (setter("test", "acc", value="0.9"), "test.acc", "must be a number"),
    (setter("diverged", value="yes"), "diverged", "must be a JSON object or null"),
    (setter("config", value=[]), "config", "must be a JSON object"),
    (setter("config", "preset", value=["baseline"]), "config.preset", "must be a string"),
    (setter("schema", value=True), "schema", "must be 1, 2 or 3"),
    (lambda h: h["epochs"][6].pop("lr"), "epochs[6].lr", "missing"),
    (lambda h: h.pop("dataset"), "dataset", "missing"),
]


@pytest.mark.parametrize(("change", "field", "rule"), WRONG_TYPES)
def test_wrongly_typed_fields_are_named(
    run: Path, change: Callable[[dict[str, Any]], None], field: str, rule: str
) -> None:
    edit_history(run, change)
    refused(run, "history.json", re.escape(rule), field)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (lambda t: t.replace('"val_acc": 0.874', '"val_acc": NaN', 1), "NaN is not strict JSON"),
        (lambda t: t.replace('"epoch": 1', '"epoch": 1' + "0" * 5000, 1), "not valid JSON"),
        (lambda t: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (lambda t: "[1, 2]", "must be a JSON object, got [1, 2]"),
    ],
)
def test_history_json_that_is_not_the_layout(run: Path, text: Callable[[str], str], rule: str):
    path = run / "history.json"
    path.write_text(text(path.read_text()))
    refused(run, "history.json", re.escape(rule))


def test_history_json_that_is_not_utf8(run: Path) -> None:
    data = b'{"schema": 1, "status": "\xff"}'
    (run / "history.json").write_bytes(data)
    offset = data.index(b"\xff")
    refused(run, "history.json", rf"not UTF-8 text \(byte {offset}\)")


@pytest.mark.parametrize(
    ("old", "new", "field", "rule"),
    [
        ("hidden = [", 'hidden = "x"\nignored = [', "model.ignored", "unknown key"),
        ("lr = 0.001", 'lr = "fast"', "lr", "must be a number"),
        ("epochs = 20", "epochs = -2", "epochs", "must be an integer from 1"),
    ],
)
def test_wrongly_typed_config(run: Path, old: str, new: str, field: str, rule: str) -> None:
    path = run / "config.toml"
    path.write_text(path.read_text().replace(old, new, 1))
    refused(run, "config.toml", re.escape(rule), field)


@pytest.mark.parametrize(
    ("row", "rule"),
    [
        ("1,x,0.6,0.5,0.8,0.001,1.0,100.0,0.5,0.0", "line 2, train_loss: must be a number"),
        ("1,inf,0.6,0.5,0.8,0.001,1.0,100.0,0.5,0.0", "line 2, train_loss: must be a number"),
    ],
)
def test_wrongly_typed_csv(run: Path, row: str, rule: str) -> None:
    path = run / "history.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], row, *lines[2:]]) + "\n")
    with pytest.raises(RunError, match=re.escape(rule)):
        load_run(run)


def test_csv_without_its_columns(run: Path) -> None:
    path = run / "history.csv"
    path.write_text(path.read_text().replace("val_acc", "validation", 1))
    refused(run, "history.csv", "the columns val_acc are missing", "header")


def test_safetensors_header_that_is_not_json(run: Path) -> None:
    (run / "model.safetensors").write_bytes((4).to_bytes(8, "little") + b"{x}}")
    refused(run, "model.safetensors", "its header is not JSON")


# --- special files -----------------------------------------------------------------------------


def fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def link_to(target: str) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        path.unlink()
        path.symlink_to(target)

    return damage


def directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def loop(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.name)


@pytest.mark.parametrize(
    ("file", "damage", "rule"),
    [
        ("history.json", fifo, "not read: a FIFO, not a regular file"),
        ("history.json", link_to("/dev/zero"), "not read: a character device"),
        ("config.toml", fifo, "not read: a FIFO"),
        ("config.toml", link_to("/dev/null"), "not read: a character device"),
        ("history.csv", fifo, "not read: a FIFO"),
        ("model.safetensors", fifo, "not read: a FIFO"),
        ("model.safetensors", link_to("/dev/zero"), "not read: a character device"),
        ("history.json", directory, "not read: a directory"),
        ("history.json", loop, "cannot read: Too many levels of symbolic links"),
    ],
)
def test_special_files_are_never_read(
    run: Path, file: str, damage: Callable[[Path], None], rule: str
) -> None:
    damage(run / file)
    refused(run, file, rule)


@pytest.mark.parametrize("damage", [fifo, link_to("/dev/zero")])
def test_eval_never_reads_special_weights(run: Path, damage: Callable[[Path], None]) -> None:
    damage(run / "model.safetensors")
    with pytest.raises(RunError, match=r"model\.safetensors: not read: a (FIFO|character)"):
        quickly(load_weights, run / "model.safetensors")


# --- huge files ----------------------------------------------------------------------------------


def huge(limit: int) -> Callable[[Path], None]:
    """Make the file one byte larger than limit (sparse: it takes no disk or memory)."""

    def damage(path: Path) -> None:
        with path.open("r+b") as handle:
            handle.truncate(limit + 1)

    return damage


@pytest.mark.parametrize(
    ("file", "limit"),
    [
        ("history.json", MAX_HISTORY_BYTES),
        ("config.toml", MAX_CONFIG_BYTES),
        ("history.csv", MAX_CSV_BYTES),
        ("model.safetensors", MAX_WEIGHTS_BYTES),
    ],
)
def test_huge_files_are_refused_unread(run: Path, file: str, limit: int) -> None:
    huge(limit)(run / file)
    refused(run, file, re.escape(f"not read: {limit + 1:,} bytes, more than the {limit:,} allowed"))


def test_eval_refuses_huge_weights_unread(run: Path) -> None:
    huge(MAX_WEIGHTS_BYTES)(run / "model.safetensors")
    with pytest.raises(RunError, match="more than the"):
        quickly(load_weights, run / "model.safetensors")


# --- schemas and extra keys ----------------------------------------------------------------------


def test_schema_2_and_unknown_keys_are_read(run: Path) -> None:
    """Schema 2 adds activation statistics under a key of each epoch and a top-level
    ``initial`` record; keys this version does not know are kept, unchecked."""

    def upgrade(history: dict[str, Any]) -> None:
        history["schema"] = 2
        history["initial"] = {"activations": {"fc1": {"mean": 0.1, "std": 1.0}}}
        history["error"] = None
        for record in history["epochs"]:
            record["activations"] = {"fc1": {"mean": 0.2, "saturated": 0.01}}

    edit_history(run, upgrade)
    history = load_run(run).history
    assert history["schema"] == 2
    assert history["epochs"][0]["activations"] == {"fc1": {"mean": 0.2, "saturated": 0.01}}
    assert "initial" in history


def test_read_history_is_the_loader_of_the_list(run: Path) -> None:
    edit_history(run, setter("test", value=[1]))
    with pytest.raises(RunError) as caught:
        read_history(run / "history.json")
    assert (caught.value.file, caught.value.field) == (run / "history.json", "test")


# --- generated run files -------------------------------------------------------------------------

finite = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)
fraction = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def histories(draw: st.DrawFn) -> dict[str, Any]:
    """A history.json of the documented layout: schema 1, 2 or 3, 1-4 layers, 0-6 epochs of
    finite metrics (or null), events, a best epoch among them, extra keys a newer version
    might add."""
    layers = [f"fc{i}" for i in range(1, draw(st.integers(1, 4)) + 1)]
    count = draw(st.integers(0, 6))
    maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
    epochs = []
    for epoch in range(1, count + 1):
        record = {
            "epoch": epoch,
            "train_loss": draw(maybe(finite)),
            "train_acc": draw(maybe(fraction)),
            "val_loss": draw(maybe(finite)),
            "val_acc": draw(maybe(fraction)),
            "lr": draw(finite),
            "seconds": draw(finite),
            "samples_per_s": draw(finite),
            "grad_norm": [draw(maybe(finite)) for _ in layers],
            "grad_norm_total": draw(maybe(finite)),
            "clipped_fraction": draw(fraction),
            "events": draw(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "step": st.integers(1, 100),
                            "kind": st.sampled_from(["clipping", "lr", "pause", "stop"]),
                            "value": st.one_of(st.booleans(), finite, st.none()),
                        }
                    ),
                    max_size=2,
                )
            ),
        }
        if draw(st.booleans()):
            record["activations"] = {"fc1": {"mean": draw(finite)}}
        epochs.append(record)
    schema = draw(st.sampled_from([1, 2, 3]))
    history: dict[str, Any] = {
        "schema": schema,
        "status": draw(st.sampled_from(RECORDED)),
        "config": {"preset": draw(maybe(st.text(max_size=8))), "train": {"epochs": count}},
        "dataset": dict(DATASET),
        "layers": layers,
        "epochs": epochs,
        "best_epoch": draw(st.sampled_from([None, *range(1, count + 1)])),
        "test": draw(maybe(st.fixed_dictionaries({"loss": maybe(finite), "acc": maybe(fraction)}))),
        "diverged": draw(
            maybe(
                st.fixed_dictionaries(
                    {
                        "epoch": st.integers(1, 9),
                        "step": st.integers(1, 9),
                        "layer": st.sampled_from([*layers, "loss"]),
                    }
                )
            )
        ),
    }
    if schema >= 2:
        history["initial"] = {"activations": {}}
    return history


MUTABLE = [
    ("schema",),
    ("status",),
    ("config",),
    ("dataset",),
    ("layers",),
    ("epochs",),
    ("best_epoch",),
    ("test",),
    ("diverged",),
    *[("epochs", 0, key) for key in runs.EPOCH_KEYS],
]
"""Documented fields that no string, boolean or list of booleans satisfies."""
wrong_values = st.one_of(
    st.text(max_size=3), st.booleans(), st.lists(st.booleans(), min_size=1, max_size=2)
)


def field_name(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories())
def test_generated_valid_histories_load(tmp_path_factory, history: dict[str, Any]) -> None:
    """Generates 100 valid histories per run (``histories``): each is read back unchanged."""
    path = tmp_path_factory.mktemp("h") / "history.json"
    path.write_text(dumps_history(history))
    assert read_history(path) == history


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=histories(),
    target=st.sampled_from(MUTABLE),
    value=wrong_values,
    cut=st.one_of(st.none(), st.floats(0.0, 0.999)),
)
def test_generated_damaged_histories_are_refused_by_name(
    tmp_path_factory, history: dict[str, Any], target: tuple, value: Any, cut: float | None
) -> None:
    """Generates 200 damaged histories per run: a valid one (``histories``) with one
    documented field set to a string, boolean or list of booleans, and half of them also
    cut short at a random byte. Each is refused with a RunError naming history.json (and,
    when not cut, the mutated field); nothing else is ever raised."""
    if target[0] == "epochs" and len(target) > 1 and not history["epochs"]:
        target = ("epochs",)
    parent: Any = history
    for key in target[:-1]:
        parent = parent[key]
    parent[target[-1]] = value
    data = json.dumps(history).encode()
    if cut is not None:
        data = data[: int(len(data) * cut)]
    path = tmp_path_factory.mktemp("h") / "history.json"
    path.write_bytes(data)
    with pytest.raises(RunError) as caught:
        read_history(path)
    assert caught.value.file == path
    assert str(caught.value).startswith(f"{path}: ")
    if cut is None:
        assert caught.value.field is not None
        assert caught.value.field.startswith(field_name(target)), (caught.value, target)
