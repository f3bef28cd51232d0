"""A search's space: typed ranges read back as written, every sampled value inside its range
and accepted by the option's own rule, every bad spec refused by key and rule; a pruner's
stop ends a run ``pruned``."""

from __future__ import annotations

import math

import optuna
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnn_tui.config import DataConfig, RunConfig, TrainConfig, validate
from dnn_tui.data import load_dataset
from dnn_tui.rundir.channel import PRUNED, apply_request
from dnn_tui.sweeps.planning import check_values
from dnn_tui.sweeps.space import (
    Dimension,
    SpaceError,
    check_space,
    distributions,
    from_table,
    parse_dimension,
    sample,
)
from dnn_tui.training.controls import RunControls
from dnn_tui.training.engine import train
from dnn_tui.training.status import ENDED_ON_ITS_OWN, ENDED_WELL, Status, exit_code

BASE = RunConfig()
POSITIVE = st.floats(1e-6, 10.0, allow_nan=False, allow_infinity=False)


@st.composite
def dimensions(draw: st.DrawFn) -> Dimension:
    """A valid dimension of a run option that takes its kind."""
    kind = draw(st.sampled_from(["log", "float", "int", "choice"]))
    if kind == "log":
        low, high = sorted([draw(POSITIVE), draw(POSITIVE)])
        return Dimension(draw(st.sampled_from(["lr", "l2"])), "log", low, high)
    if kind == "float":
        low, high = sorted(draw(st.floats(0.0, 0.95, allow_nan=False)) for _ in range(2))
        return Dimension("dropout", "float", low, high)
    if kind == "int":
        low, high = sorted(draw(st.integers(1, 512)) for _ in range(2))
        return Dimension(draw(st.sampled_from(["batch_size", "epochs"])), "int", low, high)
    name, pool = draw(
        st.sampled_from(
            [
                ("activation", ["relu", "tanh", "sigmoid", "gelu"]),
                ("hidden", ["100,50", "200", "none", "64x3", "16,16"]),
                ("optimizer", ["adam", "sgd", "momentum"]),
            ]
        )
    )
    values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool), unique=True))
    return Dimension(name, "choice", choices=tuple(values))


@given(dimensions())
def test_a_dimension_reads_back_as_written(dim: Dimension) -> None:
    again = parse_dimension(dim.spec())
    assert again == dim
    assert again.spec() == dim.spec()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(dimensions(), min_size=1, max_size=3, unique_by=lambda d: d.name), st.integers(0, 99)
)
def test_every_sampled_value_is_inside_its_range_and_taken_by_the_option(
    dims: list[Dimension], seed: int
) -> None:
    check_space(BASE, dims)  # a valid space passes the check
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    for _ in range(5):
        trial = study.ask(distributions(dims))
        values = sample(dims, trial)
        for dim in dims:
            assert dim.contains(values[dim.name]), (dim, values)
            if dim.kind != "choice":
                number = float(values[dim.name])
                assert dim.low <= number <= dim.high
        config = check_values(BASE, values, "sampled")  # the option's own rules
        for dim in dims:
            if dim.kind == "log" and dim.name == "lr":
                assert math.isclose(config.train.lr, float(values["lr"]))
        study.tell(trial, 0.0)


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("lrr=log:1e-4..1e-1", "lrr: not a run option; did you mean 'lr'?"),
        ("lr=log:0.1..0.001", "lr: log: LO must not be above HI"),
        ("lr=log:0..0.1", "lr: log: LO must be above 0"),
        ("lr=log:-1..0.1", "lr: log: LO must be above 0"),
        ("batch_size=int:1.5..8", "batch_size: int: bounds must be integers"),
        ("batch_size=int:1..1e3", "batch_size: int: bounds must be integers"),
        ("lr=float:a..1", "lr: float: bounds must be finite numbers"),
        ("lr=float:0.1", "lr: float: must be float:LO..HI"),
        ("lr=range:1..2", "lr: 'range:1..2' must be KIND:RANGE"),
        ("activation=choice:relu,,tanh", "activation: choice: an empty value"),
        ("lr", "must be KEY=KIND:RANGE"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_key_and_the_rule(spec: str, said: str) -> None:
    with pytest.raises(SpaceError) as caught:
        parse_dimension(spec)
    assert said in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("activation=choice:relu,swish", "activation"),
        ("lr=float:0..0.1", "lr"),  # 0 is no learning rate
        ("dropout=float:0.5..1.5", "dropout"),
        ("epochs=float:1..3", "epochs"),  # an integer option
        ("hidden=choice:100,50/0", "hidden"),
    ],
)
def test_a_value_the_option_refuses_is_refused_before_anything_starts(spec: str, said: str) -> None:
    with pytest.raises(SpaceError) as caught:
        check_space(BASE, [parse_dimension(spec)])
    assert str(caught.value).startswith(said)


def test_a_key_given_twice_is_refused() -> None:
    dims = [parse_dimension("lr=log:1e-3..1e-1"), parse_dimension("lr=float:0.1..0.2")]
    with pytest.raises(SpaceError, match="lr: in the space twice"):
        check_space(BASE, dims)


def test_a_sweep_file_space_table_reads_strings_and_arrays() -> None:
    dims = from_table(
        {"lr": "log:1e-4..1e-1", "hidden": [[100, 50], [200], []], "activation": ["relu"]},
        "lesson.toml: space",
    )
    assert [d.spec() for d in dims] == [
        "lr=log:0.0001..0.1",
        "hidden=choice:100,50/200/none",
        "activation=choice:relu",
    ]
    with pytest.raises(SpaceError, match=r"lesson.toml: space.lrate: not a run option"):
        from_table({"lrate": "log:1e-4..1e-1"}, "lesson.toml: space")


def test_a_pruners_stop_ends_the_run_pruned_with_its_best_weights() -> None:
    data = load_dataset(DataConfig(dataset="digits", limit=300))
    config = validate(RunConfig(train=TrainConfig(epochs=20, batch_size=50, device="cpu")))
    controls = RunControls()

    def emit(event: object) -> None:
        if type(event).__name__ == "EpochEnded" and event.record["epoch"] == 2:  # type: ignore[attr-defined]
            assert apply_request(controls, {"kind": "stop", "value": PRUNED}) is None

    result = train(config, data, controls, emit)
    assert result.status == Status.PRUNED
    assert len(result.history) == 2  # stopped in the third epoch, at its first step
    assert result.best_epoch in (1, 2) and result.test is not None
    assert Status.PRUNED in ENDED_ON_ITS_OWN and Status.PRUNED not in ENDED_WELL
    assert exit_code(Status.PRUNED) == 0
    assert isinstance(apply_request(RunControls(), {"kind": "stop", "value": "cut"}), str)
