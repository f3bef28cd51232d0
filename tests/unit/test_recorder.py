"""The writing side of run directories: claiming, the recorder's files, events.jsonl, modes."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from dnn_tui import config as cfg
from dnn_tui import fileio
from dnn_tui.rundir import liveness
from dnn_tui.rundir.files import (
    CSV_COLUMNS,
    SCHEMA,
    load_run,
    load_weights,
    read_history,
    strict_json,
)
from dnn_tui.rundir.recorder import (
    ClaimError,
    RunRecorder,
    claim_new_run_dir,
    claim_run_dir,
    release,
)
from dnn_tui.training.events import (
    ControlApplied,
    EpochEnded,
    Notice,
    RunFinished,
    StepMeasured,
    from_record,
)
from tests.helpers.run_files import (
    CONFIG,
    LAYERS,
    finished,
    record,
    signal,
    started,
    strict_load,
    weights,
)
from tests.helpers.waiting import wait_for


def events_of(run: Path) -> list:
    return [
        from_record(json.loads(line)) for line in (run / "events.jsonl").read_text().splitlines()
    ]


def test_recorder_writes_the_run_files(tmp_path: Path) -> None:
    run = tmp_path / "run"
    recorder = RunRecorder(run)
    recorder(started())
    recorder(Notice("a note"))
    recorder(EpochEnded(record(1), best_epoch=1, epochs=3))
    recorder(EpochEnded(record(2, loss=float("nan")), best_epoch=1, epochs=3))
    recorder(finished())

    assert sorted(p.name for p in run.iterdir()) == [
        "config.toml",
        "epochs.jsonl",
        "events.jsonl",
        "history.csv",
        "history.json",
        "model.safetensors",
    ]
    assert cfg.load(run / "config.toml") == CONFIG

    history = strict_load(run / "history.json")
    assert history["schema"] == SCHEMA == 3
    assert history["activations"] is None and history["initial"] is None  # none measured
    assert history["status"] == "completed"
    assert history["config"] == cfg.to_dict(CONFIG)
    assert history["dataset"]["name"] == "digits"
    assert history["layers"] == list(LAYERS)
    assert [r["epoch"] for r in history["epochs"]] == [1, 2]
    assert history["epochs"][1]["train_loss"] is None  # NaN -> null
    assert history["epochs"][0]["grad_norm"] == [1e-9, 0.5, None]  # inf -> null
    assert history["epochs"][0]["events"] == [{"step": 1, "kind": "clipping", "value": True}]
    assert history["best_epoch"] == 1
    assert history["test"] == {"loss": 0.3, "acc": 0.9}
    assert history["diverged"] is None
    assert history["error"] is None and history["partial_epoch"] is None

    with (run / "history.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert float(rows[0]["train_loss"]) == 0.5
    assert rows[1]["train_loss"] == ""

    weights = load_weights(run / "model.safetensors")
    assert torch.equal(weights["0.weight"], torch.arange(6.0).reshape(2, 3))
    with safe_open(run / "model.safetensors", "pt") as handle:
        assert handle.metadata() == {"config_hash": cfg.config_hash(CONFIG), "epoch": "1"}


def test_events_log_is_strict_json_that_reads_back_as_the_events(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    sent = [
        Notice("auto fell back", "warning"),
        started(),
        signal(0),
        ControlApplied(1, 3, "clipping", True),
        EpochEnded(record(1, loss=float("inf")), best_epoch=1, epochs=3),
        finished(),
    ]
    for event in sent:
        recorder(event)
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert len(lines) == len(sent)

    def refuse(name: str) -> None:
        raise AssertionError(f"events.jsonl holds {name}")

    records = [json.loads(line, parse_constant=refuse) for line in lines]
    assert [r["event"] for r in records] == [type(e).__name__ for e in sent]
    back = events_of(tmp_path)
    assert back[0] == sent[0] and back[3] == sent[3]
    assert back[1].config == CONFIG and back[1].layers == LAYERS
    assert back[2].std == signal(0).std and back[2].record() == signal(0).record()
    assert back[4].record["train_loss"] is None  # inf -> null
    assert back[5].status == "completed" and back[5].weights == {}  # tensors stay out


def test_progress_reports_are_logged_at_most_about_four_a_second(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    step = StepMeasured(
        1, 1, 10, 0.5, 0.5, 0.5, (1.0,), (1.0,), 1.0, 1.0, 0.0, 10.0, False, 1.0, 0.1, 0.1
    )
    began = time.monotonic()
    for _ in range(200):
        recorder(step)
    recorder.flush()
    took = time.monotonic() - began
    logged = sum(isinstance(e, StepMeasured) for e in events_of(tmp_path))
    assert 1 <= logged <= 1 + took / 0.25 + 1


def test_every_epoch_is_appended_and_history_json_is_rewritten_rarely(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder.flush()
    history = strict_load(tmp_path / "history.json")
    assert (history["status"], history["epochs"], history["schema"]) == ("running", [], 3)
    assert (tmp_path / "history.csv").read_text().strip() == ",".join(CSV_COLUMNS)
    for epoch in (1, 2):
        recorder(EpochEnded(record(epoch), best_epoch=epoch, epochs=3))
        recorder.flush()
        logged = (tmp_path / "epochs.jsonl").read_text().splitlines()
        expected = [strict_json(record(n)) for n in range(1, epoch + 1)]
        assert [json.loads(line) for line in logged] == expected
        assert len((tmp_path / "history.csv").read_text().splitlines()) == 1 + epoch
        joined = read_history(tmp_path / "history.json")  # history.json and the log, joined
        assert [r["epoch"] for r in joined["epochs"]] == list(range(1, epoch + 1))
        assert joined["best_epoch"] == 1  # equal losses: the first, as the engine says
    # history.json itself waits for HISTORY_MIN_S (the log has every epoch meanwhile) ...
    assert strict_load(tmp_path / "history.json")["epochs"] == []
    recorder(finished())
    # ... and holds every epoch at the end.
    history = strict_load(tmp_path / "history.json")
    assert [r["epoch"] for r in history["epochs"]] == [1, 2]


def test_a_new_best_epoch_saves_its_weights_while_the_run_goes_on(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    best = {"fc1.weight": torch.ones(2, 2)}
    recorder(EpochEnded(record(1), best_epoch=1, epochs=3, best_weights=best))
    recorder.flush()
    with safe_open(tmp_path / "model.safetensors", "pt") as handle:
        assert handle.metadata()["epoch"] == "1"
        assert torch.equal(handle.get_tensor("fc1.weight"), best["fc1.weight"])
    # A second best within BEST_SAVE_MIN_S waits, then is saved without another event.
    recorder(
        EpochEnded(
            record(2), best_epoch=2, epochs=3, best_weights={"fc1.weight": 2 * best["fc1.weight"]}
        )
    )

    def saved_epoch() -> str:
        with safe_open(tmp_path / "model.safetensors", "pt") as handle:
            return handle.metadata()["epoch"]

    wait_for(lambda: saved_epoch() == "2", "the second best weights saved", timeout=10)
    recorder.close()


def test_a_failed_write_keeps_the_previous_file_and_is_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[str] = []
    recorder = RunRecorder(tmp_path, on_error=errors.append)
    recorder(started())
    recorder(EpochEnded(record(1), best_epoch=1, epochs=3))
    recorder.flush()
    before = (tmp_path / "history.json").read_text()

    def crash(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "replace", crash)
    recorder(EpochEnded(record(2), best_epoch=2, epochs=3))
    recorder(EpochEnded(record(3), best_epoch=3, epochs=3))
    recorder(dataclasses.replace(finished(), weights=None))
    assert (tmp_path / "history.json").read_text() == before
    assert len(errors) == 1
    assert errors[0] == f"{tmp_path / 'history.json'}: No space left on device"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # The epochs are in the log: the run reads back with all three.
    assert [r["epoch"] for r in read_history(tmp_path / "history.json")["epochs"]] == [1, 2, 3]


def test_a_deleted_run_directory_is_not_made_again(tmp_path: Path) -> None:
    errors: list[str] = []
    run = tmp_path / "runs" / "a"
    recorder = RunRecorder(claim_run_dir(run), on_error=errors.append)
    recorder(started())
    recorder.flush()
    for path in sorted(run.iterdir()):
        path.unlink()
    run.rmdir()
    recorder(EpochEnded(record(1), best_epoch=1, epochs=3))
    recorder(finished())
    assert not run.exists()
    assert errors and str(run) in errors[0] and "deleted" in errors[0]


def test_failed_run_records_its_error_and_partial_epoch(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(EpochEnded(record(1), best_epoch=1, epochs=3))
    partial = {"epoch": 2, "steps": 4, "events": [{"step": 5, "kind": "stop", "value": True}]}
    recorder(
        RunFinished(
            "failed", 1, None, None, 1.0, {}, error="epoch 2, step 5: boom", partial_epoch=partial
        )
    )
    history = strict_load(tmp_path / "history.json")
    assert history["status"] == "failed"
    assert history["error"] == "epoch 2, step 5: boom"
    assert history["partial_epoch"] == partial
    assert len(history["epochs"]) == 1


def test_diverged_run_records_where(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    where = {"epoch": 1, "step": 3, "layer": "fc1", "clip_norm": None, "lr": 0.1}
    recorder(
        RunFinished("diverged", best_epoch=None, test=None, diverged=where, seconds=0.1, weights={})
    )
    history = strict_load(tmp_path / "history.json")
    assert (history["status"], history["diverged"], history["test"]) == ("diverged", where, None)
    assert not (tmp_path / "model.safetensors").exists()


def test_strict_json_has_no_nan_or_infinity(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(EpochEnded(record(1, loss=float("-inf")), best_epoch=None, epochs=3))
    recorder(finished())
    text = (tmp_path / "history.json").read_text()
    assert not re.search(r"NaN|Infinity", text)
    assert math.isfinite(strict_load(tmp_path / "history.json")["epochs"][0]["val_loss"])


# --- claiming -------------------------------------------------------------------------------------


def test_new_run_dirs_are_timestamped_and_never_shared(tmp_path: Path) -> None:
    folders = []
    lock = threading.Lock()

    def claim() -> None:
        folder = claim_new_run_dir("baseline", tmp_path)
        with lock:
            folders.append(folder)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = [f.path.name for f in folders]
    assert len(set(names)) == 8
    assert all(re.fullmatch(r"\d{8}-\d{6}-baseline(-\d+)?", name) for name in names)
    assert claim_new_run_dir("../evil name", tmp_path).path.parent == tmp_path
    assert re.fullmatch(r"\d{8}-\d{6}-custom", claim_new_run_dir(None, tmp_path / "x").path.name)


def test_claim_takes_a_new_or_empty_directory_once(tmp_path: Path) -> None:
    claim_run_dir(tmp_path / "new" / "run")
    assert (tmp_path / "new" / "run" / "liveness.json").is_file()
    (tmp_path / "empty").mkdir()
    claim_run_dir(tmp_path / "empty")
    with pytest.raises(ClaimError, match="not empty"):
        claim_run_dir(tmp_path / "empty")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("x"), "not a directory"),
        (lambda p: (p.mkdir(), (p / "notes.txt").write_text("x")), "not empty"),
        (lambda p: (p.mkdir(), (p / "config.toml").write_text("x")), "not empty"),
    ],
)
def test_claim_refuses_what_is_there(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "out"
    make(path)
    with pytest.raises(ClaimError, match=message):
        claim_run_dir(path)


def test_claim_refuses_an_empty_path() -> None:
    with pytest.raises(ClaimError, match="must not be empty"):
        claim_run_dir("")


def finished_run(path: Path) -> Path:
    recorder = RunRecorder(claim_run_dir(path))
    recorder(started())
    recorder(finished())
    return path


def test_force_replaces_a_finished_run_only(tmp_path: Path) -> None:
    run = finished_run(tmp_path / "run")
    (run / "liveness.json").write_text(
        liveness.Liveness(
            pid=2**22 + 12345, host=liveness.hostname(), started=0, heartbeat=0
        ).to_json()
    )
    claim_run_dir(run, force=True)
    assert sorted(p.name for p in run.iterdir()) == ["liveness.json"]

    other = tmp_path / "notes"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    with pytest.raises(ClaimError, match="not a run directory"):
        claim_run_dir(other, force=True)
    assert (other / "thesis.tex").exists()

    mixed = finished_run(tmp_path / "mixed")
    (mixed / "thesis.tex").write_text("x")
    with pytest.raises(ClaimError, match=r"thesis\.tex"):
        claim_run_dir(mixed, force=True)
    assert (mixed / "history.json").exists()


def test_force_refuses_a_run_that_is_still_going(tmp_path: Path) -> None:
    run = tmp_path / "run"
    claim_run_dir(run)  # this process holds it
    with pytest.raises(ClaimError, match="still going"):
        claim_run_dir(run, force=True)


def test_release_removes_an_unused_claim(tmp_path: Path) -> None:
    folder = claim_run_dir(tmp_path / "run")
    release(folder)
    assert not (tmp_path / "run").exists()


def test_run_files_follow_the_umask(tmp_path: Path) -> None:
    """Run in a child process: the umask is process-wide. One child writes the three runs,
    each after its own umask, so a umask read once (at import) would show in the later ones."""
    umasks = {"022": 0o644, "077": 0o600, "002": 0o664}
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from tests.helpers.run_files import started, finished\n"
        "from dnn_tui.rundir.recorder import RunRecorder, claim_run_dir\n"
        "for umask in sys.argv[2:]:\n"
        "    os.umask(int(umask, 8))\n"
        "    r = RunRecorder(claim_run_dir(Path(sys.argv[1]) / umask))\n"
        "    r(started()); r(finished())\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), *umasks], cwd=root, check=True, timeout=120
    )
    for umask, mode in umasks.items():
        run = tmp_path / umask
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in run.iterdir()}
        assert set(modes) >= {"config.toml", "history.json", "model.safetensors", "events.jsonl"}
        assert set(modes.values()) == {mode}, (umask, modes)
    assert os.getuid() >= 0


def test_a_run_whose_files_cannot_be_written_ends_as_failed_naming_the_file(
    tmp_path: Path,
) -> None:
    from dnn_tui.data import load_dataset
    from dnn_tui.training.controls import RunControls
    from dnn_tui.training.engine import train

    folder = claim_run_dir(tmp_path / "run")
    (tmp_path / "run" / "events.jsonl").mkdir()  # a log that cannot be opened for writing
    config = cfg.with_options(CONFIG, {"epochs": 50, "device": "cpu", "limit": 100})
    controls = RunControls()
    recorder = RunRecorder(folder, on_error=controls.fail)
    result = train(config, load_dataset(config.data), controls, recorder)
    assert result.status == "failed"
    assert result.error == f"{tmp_path / 'run' / 'events.jsonl'}: Is a directory"
    history = strict_load(tmp_path / "run" / "history.json")
    assert history["status"] == "failed" and history["error"] == result.error
    assert len(history["epochs"]) < 50


def test_the_activation_figures_are_recorded(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(signal(0))
    recorder.flush()
    history = strict_load(tmp_path / "history.json")
    assert history["initial"] == signal(0).record()  # a record of its own, not an epoch
    assert history["epochs"] == []
    assert history["activations"] == {
        "layers": ["act1", "act2"],
        "samples": 256,
        "share": "saturated",
        "hist_range": [-1.0, 1.0],
        "hist_bins": 2,
    }
    recorder(signal(1))  # mid-run and epoch-end figures travel in the epoch records
    recorder(EpochEnded({**record(1), **signal(1).record()}, best_epoch=1, epochs=3))
    recorder(finished())
    history = strict_load(tmp_path / "history.json")
    assert history["initial"] == signal(0).record()
    epoch = history["epochs"][0]
    assert epoch["act_std"] == [0.3, 0.003]
    assert (epoch["act_saturated"], epoch["act_dead"]) == ([0.5, 0.25], None)
    assert epoch["act_hist"] == [[0.5, 0.5], [0.0, 1.0]]
    with (tmp_path / "history.csv").open() as handle:
        row = next(csv.DictReader(handle))
    assert (row["act_std_first"], row["act_std_last"]) == ("0.3", "0.003")
    assert (row["act_saturated_max"], row["act_dead_max"]) == ("0.5", "")
    recorder.close()


def test_csv_columns_of_a_relu_run_and_of_a_run_without_figures(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(EpochEnded({**record(1), **signal(1, "dead").record()}, best_epoch=1, epochs=3))
    recorder(EpochEnded(record(2), best_epoch=1, epochs=3))
    recorder.close()
    with (tmp_path / "history.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert (rows[0]["act_saturated_max"], rows[0]["act_dead_max"]) == ("", "0.5")
    assert [rows[1][c] for c in CSV_COLUMNS if c.startswith("act_")] == ["", "", "", ""]


def test_the_weight_figures_are_recorded_beside_the_signal(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(signal(0))
    recorder(weights(0))
    recorder(weights(1))  # an epoch end's figures travel in its record
    recorder(EpochEnded({**record(1), **weights(1).record()}, best_epoch=1, epochs=3))
    recorder(finished())
    history = load_run(tmp_path).history
    assert history["initial"] == {**signal(0).record(), **weights(0).record()}
    assert "update_ratio" not in history["initial"]  # no step before the first one
    epoch = history["epochs"][0]
    assert epoch["weight_norm"] == [8.0, 5.0, 3.0]
    assert epoch["update_ratio"] == [2e-3, 1e-3, 5e-4]
    assert len(epoch["weight_hist"]) == len(epoch["weight_hist_max"]) == 3
    rows = list(csv.DictReader((tmp_path / "history.csv").open()))
    assert float(rows[0]["weight_norm_total"]) == pytest.approx(math.hypot(8.0, 5.0, 3.0))
    assert float(rows[0]["update_ratio_first"]) == 2e-3


def test_an_epoch_costs_the_same_bytes_late_in_a_long_run(tmp_path: Path) -> None:
    """The files grow by appends: epoch 2,000 writes what epoch 10 writes (history.json, the
    file that holds them all, is rewritten only every HISTORY_MIN_S and at the end)."""
    recorder = RunRecorder(tmp_path)
    recorder(started())

    def bytes_for(epochs: range) -> int:
        recorder.flush()
        before = recorder.written
        for epoch in epochs:
            recorder(EpochEnded(record(epoch), best_epoch=1, epochs=epochs.stop))
        recorder.flush()
        return recorder.written - before

    early = bytes_for(range(1, 11))
    bytes_for(range(11, 1991))
    late = bytes_for(range(1991, 2001))
    assert early > 0 and late <= 1.05 * early
    recorder(finished())
    assert len(read_history(tmp_path / "history.json")["epochs"]) == 2000
