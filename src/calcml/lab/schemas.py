"""The shapes of the lab's requests, with the bounds that keep every request's work small.

Unknown fields are refused (a typo should not pass silently); numbers must be finite and within
ranges that a page would send; text and lists are capped.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Coordinate = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]
Expression = Annotated[str, Field(min_length=1, max_length=500)]
Range = tuple[Coordinate, Coordinate]
MAX_STEP_SIZE = 10.0  # a race's or the stepper's learning rate; larger steps overshoot every built-in view at once
StepSize = Annotated[float, Field(gt=0, le=MAX_STEP_SIZE, allow_inf_nan=False)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DerivativeRequest(Request):
    expr: Expression
    var: Annotated[str, Field(pattern=r"^[a-z]$")] = "x"
    x_min: Coordinate = -5.0
    x_max: Coordinate = 5.0
    points: Annotated[int, Field(ge=2, le=2001)] = 401


class SurfaceRequest(Request):
    name: str | None = Field(default=None, max_length=40)
    expr: Expression | None = None
    x_range: Range | None = None
    y_range: Range | None = None
    points: Annotated[int, Field(ge=10, le=150)] = 80

    @model_validator(mode="after")
    def one_surface(self):
        if (self.name is None) == (self.expr is None):
            raise ValueError("give either a built-in surface 'name' or a function 'expr' of x and y (exactly one)")
        return self


class RaceRun(Request):
    optimizer: Annotated[str, Field(max_length=20)]
    lr: StepSize


class RaceRequest(SurfaceRequest):
    start: tuple[Coordinate, Coordinate]
    runs: Annotated[list[RaceRun], Field(min_length=1, max_length=8)]
    steps: Annotated[int, Field(ge=1, le=1000)] = 200


class BackpropRequest(Request):
    weights: dict[str, list] | None = None
    lr: StepSize = 0.5
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0


class IntegralRequest(Request):
    expr: Expression
    a: Coordinate = 0.0
    b: Coordinate = 1.0
    n: Annotated[int, Field(ge=1, le=1000)] = 8
    method: Annotated[str, Field(max_length=20)] = "midpoint"


class TrainRequest(Request):
    epochs: Annotated[int, Field(ge=1, le=30)] = 10
    hidden: Annotated[int, Field(ge=8, le=256)] = 64
    optimizer: Annotated[str, Field(max_length=20)] = "adam"
    lr: Annotated[float | None, Field(gt=0, le=1, allow_inf_nan=False)] = None
    batch_size: Annotated[int, Field(ge=8, le=512)] = 32
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0


MAX_MEASUREMENTS = 100


class CurvatureRequest(Request):
    """A small network trained by full-batch gradient descent, its Hessian's λ_max measured every ``every`` steps."""

    examples: Annotated[int, Field(ge=20, le=500)] = 200
    hidden: Annotated[int, Field(ge=4, le=64)] = 32
    lr: Annotated[float, Field(gt=0, le=2, allow_inf_nan=False)] = 0.5
    steps: Annotated[int, Field(ge=1, le=1000)] = 300
    every: Annotated[int, Field(ge=1, le=1000)] = 25
    k: Annotated[int, Field(ge=1, le=10)] = 5
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0

    @model_validator(mode="after")
    def few_measurements(self):
        measurements = self.steps // self.every + 1
        if measurements > MAX_MEASUREMENTS:
            raise ValueError(f"steps/every asks for {measurements} measurements of λ_max; the lab makes at most "
                             f"{MAX_MEASUREMENTS} (raise every or lower steps)")
        return self
