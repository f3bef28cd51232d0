"""No run lost or overwritten: run directories are claimed, never shared, never replaced
silently; a run that cannot write its files ends as ``failed``, naming the file."""

from __future__ import annotations

import re
import resource
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from dnn_tui.rundir.liveness import is_alive
from tests.helpers.cli import Cli, cli_command, cli_env, read_history, wait_for_run_files

TINY = ("--dataset", "digits", "--limit", 200, "--hidden", "8", "--epochs", 2)


def test_an_existing_run_is_never_replaced_without_force(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert cli("train", *TINY, "--out", out, cwd=tmp_path).returncode == 0
    before = (out / "history.json").read_text()
    again = cli("train", *TINY, "--seed", 1, "--out", out, cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"dnn-tui: error: {out}: not empty; choose a new directory, or --force to replace "
        "the finished run in it"
    )
    assert (out / "history.json").read_text() == before
    forced = cli("train", *TINY, "--seed", 1, "--out", out, "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert read_history(out)["config"]["train"]["seed"] == 1


def test_out_must_name_a_new_or_empty_directory(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("# a user's file\n")
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    cases = {
        "": "--out: the run directory must not be empty",
        ".": "not empty",
        "file": "exists and is not a directory",
    }
    for out, message in cases.items():
        done = cli("train", *TINY, "--out", out, cwd=tmp_path)
        assert done.returncode == 1 and message in done.stderr, (out, done.stderr)
        assert "Traceback" not in done.stderr
    assert (tmp_path / "config.toml").read_text() == "# a user's file\n"
    assert cli("train", *TINY, "--out", "empty", cwd=tmp_path).returncode == 0
    assert (tmp_path / "empty" / "model.safetensors").is_file()


@pytest.mark.e2e
def test_runs_started_in_the_same_second_never_share_a_directory(tmp_path: Path) -> None:
    processes = [
        subprocess.Popen(
            cli_command("train", *TINY, "--seed", seed),
            cwd=tmp_path,
            env=cli_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for seed in range(3)
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 3
    assert sorted(read_history(run)["config"]["train"]["seed"] for run in runs) == [0, 1, 2]


def test_a_data_failure_keeps_the_directory_saying_why_and_it_is_claimed_again(
    cli: Cli, tmp_path: Path
) -> None:
    """A run that fails before its first step says so in its folder (failed, the error);
    nothing in it is worth keeping, so the same --out is claimed again without --force."""
    done = cli(
        "train", "--dataset", "idx", "--idx-images", "absent", "--idx-labels", "absent",
        "--out", tmp_path / "run", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1 and "absent" in done.stderr
    history = read_history(tmp_path / "run")
    assert history["status"] == "failed" and "absent" in history["error"]
    again = cli(
        "train", "--dataset", "digits", "--limit", 100, "--epochs", 1, "--hidden", 8,
        "--out", tmp_path / "run", cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert read_history(tmp_path / "run")["status"] == "completed"


@pytest.mark.e2e
def test_a_deleted_run_directory_ends_the_run_as_failed(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "victim"
    process = subprocess.Popen(
        cli_command(*["train", "--dataset", "digits", "--limit", 400, "--batch-size", 10],
                    "--epochs", 100_000, "--out", out),
        cwd=tmp_path, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for_run_files(out, process)
        while (tmp_path / "runs").exists():  # the run may write a file between two removals
            shutil.rmtree(tmp_path / "runs", ignore_errors=True)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1
    assert f"{out}" in stderr and "deleted" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "runs").exists()  # not made again, half empty


@pytest.mark.e2e  # a real process under an OS limit (RLIMIT_FSIZE is process-wide), trained to it
def test_a_full_disk_ends_the_run_naming_the_file_and_keeps_the_last_good_files(
    tmp_path: Path,
) -> None:
    """A full disk, as the run sees it: files cannot grow beyond a size (RLIMIT_FSIZE, EFBIG).
    The last good history.json stays (atomic writes) and readers show the run as
    interrupted when history.json itself cannot grow: its process is gone."""
    out = tmp_path / "run"

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (30_000, 30_000))

    process = subprocess.run(
        cli_command("train", "--dataset", "digits", "--limit", 300, "--hidden", "8",
                    "--epochs", 300, "--out", out),
        cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=120,
        preexec_fn=small_files,
    )  # fmt: skip
    assert process.returncode == 1, process.stderr
    assert re.fullmatch(
        f"dnn-tui: error: the run failed: {re.escape(str(out))}/"
        r"(history\.json|events\.jsonl): File too large",
        process.stderr.strip(),
    ), process.stderr
    history = read_history(out)
    assert 1 <= len(history["epochs"]) < 300
    assert (out / "model.safetensors").is_file()
    assert not is_alive(out)
