"""evaluation.json: what assess computes, against scikit-learn and plain PyTorch; what the
engine and the recorder make of it; what the loader accepts and refuses."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from sklearn.metrics import confusion_matrix
from torch import nn

from dnn_tui import config as cfg
from dnn_tui.data import load_dataset
from dnn_tui.rundir.catalog import RunCatalog
from dnn_tui.rundir.files import (
    EVALUATION_FILE,
    RunError,
    dumps_evaluation,
    load_evaluation,
    load_run,
)
from dnn_tui.rundir.launch import record_run
from dnn_tui.rundir.recorder import RunRecorder
from dnn_tui.training.controls import RunControls
from dnn_tui.training.engine import train
from dnn_tui.training.evaluation import assess
from dnn_tui.training.events import EpochEnded
from tests.helpers.run_files import finished, record, started, strict_load

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "errors-digits"
MNIST_T10K = Path(__file__).resolve().parents[2].parent / "shared/data/mnist-t10k"


def small_problem(seed: int = 0) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A random linear model on random data of 4 classes; class 3 never occurs."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(300, 5, generator=g)
    y = torch.randint(0, 3, (300,), generator=g)
    torch.manual_seed(seed)
    return nn.Linear(5, 4), x, y


def test_the_confusion_matrix_is_scikit_learns_and_the_mistakes_plain_softmax() -> None:
    model, x, y = small_problem()
    evaluation = assess(model, x, y, 4, epoch=3, worst=10)
    with torch.no_grad():
        logits = model(x)
    probs = torch.softmax(logits, 1)
    pred = logits.argmax(1)
    expected = confusion_matrix(y.numpy(), pred.numpy(), labels=[0, 1, 2, 3])
    assert [list(row) for row in evaluation.confusion] == expected.tolist()
    assert evaluation.count == 300 and evaluation.epoch == 3
    assert evaluation.acc == (pred == y).sum().item() / 300
    loss = torch.nn.functional.cross_entropy(logits, y).item()
    assert evaluation.loss == pytest.approx(loss, rel=1e-6)
    # per-class accuracy: the diagonal over the row; a class with no example is None
    for i in range(3):
        assert evaluation.per_class_acc[i] == expected[i, i] / expected[i].sum()
    assert evaluation.per_class_acc[3] is None
    # most confused: every off-diagonal count, largest first
    counts = [pair.count for pair in evaluation.most_confused]
    assert counts == sorted(counts, reverse=True)
    off = sum(int(expected[t, p]) for t in range(4) for p in range(4) if t != p)
    assert sum(counts) == off
    # worst: misclassified, highest loss (lowest p_true) first, their probabilities
    wrong = (pred != y).nonzero()[:, 0]
    p_true = probs[wrong, y[wrong]]
    ranked = wrong[torch.argsort(p_true)][:10].tolist()
    assert [m.index for m in evaluation.worst] == ranked
    for mistake in evaluation.worst:
        assert mistake.true == y[mistake.index].item() != mistake.pred
        assert mistake.pred == pred[mistake.index].item()
        assert mistake.p_true == pytest.approx(probs[mistake.index, mistake.true].item())
        assert mistake.p_pred == pytest.approx(probs[mistake.index].max().item())


def test_a_run_s_test_accuracy_is_its_confusion_matrix_s_diagonal() -> None:
    config = cfg.with_options(cfg.RunConfig(), {"dataset": "digits", "epochs": 2, "device": "cpu"})
    data = load_dataset(config.data)
    result = train(config, data)
    evaluation = result.evaluation
    assert evaluation is not None and result.test is not None
    assert evaluation.count == len(data.y_test) == sum(map(sum, evaluation.confusion))
    diagonal = sum(evaluation.confusion[i][i] for i in range(data.classes))
    assert result.test["acc"] == diagonal / evaluation.count
    assert evaluation.epoch == result.best_epoch


def test_the_recorder_writes_evaluation_json_that_loads_back_the_same(tmp_path: Path) -> None:
    model, x, y = small_problem()
    evaluation = assess(model, x, y, 4, epoch=1)
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(EpochEnded(record(1), 1, 3))
    recorder(replace(finished(), evaluation=evaluation))
    text = (tmp_path / EVALUATION_FILE).read_text()
    assert strict_load(tmp_path / EVALUATION_FILE)["schema"] == 1
    assert list(strict_load(tmp_path / EVALUATION_FILE)) == list(evaluation.record())
    assert load_evaluation(tmp_path) == evaluation
    assert text == dumps_evaluation(evaluation)
    # a new run in the folder does not keep the old run's evaluation
    again = RunRecorder(tmp_path)
    again(started())
    again.flush()
    assert not (tmp_path / EVALUATION_FILE).exists()
    again.close()


def test_a_run_without_evaluation_json_loads(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    (run / EVALUATION_FILE).unlink()
    assert load_evaluation(run) is None
    assert load_run(run).history["test"] is not None


def damage(path: Path, change: Callable[[dict], object]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        (lambda d: d.update(schema=2), "schema", "must be 1"),
        (lambda d: d["confusion"].pop(), "confusion", "10 rows of 10 counts"),
        (lambda d: d["confusion"][2].append(0), "confusion[2]", "10 rows of 10 counts"),
        (lambda d: d["confusion"][0].__setitem__(0, -1), "confusion[0][0]", "integer"),
        (lambda d: d.update(count=d["count"] + 1), "confusion", "must sum to count"),
        (lambda d: d["per_class_acc"].__setitem__(1, 1.5), "per_class_acc[1]", "from 0 to 1"),
        (lambda d: d["most_confused"][0].update(pred=10), "most_confused[0].pred", "class index"),
        (lambda d: d["worst"][0].update(index=10**6), "worst[0].index", "below count"),
        (lambda d: d["worst"][0].pop("p_pred"), "worst[0].p_pred", "missing"),
        (lambda d: d.update(worst=d["worst"] * 3), "worst", "at most 100"),
        (lambda d: d.update(classes="0123456789"), "classes", "class names"),
    ],
)
def test_a_damaged_evaluation_is_refused_by_file_field_and_rule(
    tmp_path: Path,
    change: Callable[[dict], object],
    field: str,
    rule: str,
) -> None:
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    damage(run / EVALUATION_FILE, change)
    with pytest.raises(RunError) as caught:
        load_evaluation(run)
    assert caught.value.file == run / EVALUATION_FILE
    assert caught.value.field == field
    assert rule in str(caught.value)


def test_a_damaged_evaluation_does_not_stop_the_run_list(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "run"
    shutil.copytree(FIXTURE, run)
    (run / EVALUATION_FILE).write_text('{"schema": 1, "confusion": NaN')
    with pytest.raises(RunError, match=r"evaluation\.json: not valid JSON"):
        load_evaluation(run)
    assert load_run(run).weights is not None
    (entry,) = RunCatalog(tmp_path / "runs").scan()
    assert not entry.damaged


@pytest.mark.skipif(not MNIST_T10K.is_dir(), reason=f"real MNIST t10k not found in {MNIST_T10K}")
def test_on_mnist_the_confusion_matrix_sums_to_the_test_split_and_gives_the_test_accuracy(
    tmp_path: Path,
) -> None:
    config = cfg.with_options(
        cfg.RunConfig(preset="baseline"),
        {
            "dataset": "idx",
            "idx_images": str(MNIST_T10K / "t10k-images-idx3-ubyte.gz"),
            "idx_labels": str(MNIST_T10K / "t10k-labels-idx1-ubyte.gz"),
            "hidden": (100, 50, 20),
            "epochs": 2,
            "device": "cpu",
        },
    )
    from dnn_tui.data import load_data
    from dnn_tui.rundir.recorder import claim_run_dir

    folder = claim_run_dir(tmp_path / "mnist")
    record_run(config, folder, lambda: load_data(config), RunControls(), lambda _event: None)
    history = strict_load(tmp_path / "mnist" / "history.json")
    evaluation = load_evaluation(tmp_path / "mnist")
    assert evaluation is not None
    assert evaluation.count == history["dataset"]["test"] == 1000
    assert sum(map(sum, evaluation.confusion)) == evaluation.count
    diagonal = sum(evaluation.confusion[i][i] for i in range(10))
    assert diagonal / evaluation.count == history["test"]["acc"]
    assert len(evaluation.worst) == min(100, evaluation.count - diagonal)


def test_the_pictures_are_the_test_split_s_inputs_at_the_mistakes(tmp_path: Path) -> None:
    from dnn_tui.analysis.errors import pictures_of, run_errors

    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    errors = run_errors(run)
    data = load_dataset(load_run(run).config.data)
    assert errors.source == "evaluation.json"
    assert errors.pictures.kind == "image" and errors.pictures.shape == (8, 8)
    for mistake in errors.evaluation.worst:
        assert errors.pictures.inputs[mistake.index] == tuple(data.x_test[mistake.index].tolist())
    # another split than the evaluated one: no pictures, and the reason
    other = replace(errors.evaluation, count=errors.evaluation.count + 1)
    assert "differs" in (pictures_of(other, data).note or "")


def test_a_plane_s_mistakes_are_points_among_the_split_s_points() -> None:
    from dnn_tui.analysis.errors import pictures_of

    config = cfg.with_options(
        cfg.RunConfig(), {"dataset": "moons", "hidden": (4,), "epochs": 1, "device": "cpu"}
    )
    data = load_dataset(config.data)
    evaluation = train(config, data).evaluation
    assert evaluation is not None and evaluation.worst
    pictures = pictures_of(evaluation, data)
    assert pictures.kind == "plane" and len(pictures.plane) == len(data.y_test)
    first = evaluation.worst[0]
    assert pictures.inputs[first.index] == tuple(data.x_test[first.index].tolist())
    assert pictures.plane[first.index][2] == first.true
