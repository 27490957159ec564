"""The progress bar of ``fit``: epoch, steps, loss, accuracy and samples per second, drawn by rich.

It shows only on a terminal; in a pipe, a log file or a test it stays silent.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class TrainingProgress:
    """A context manager; ``advance`` after each step, ``epoch`` at each epoch's start."""

    def __init__(self, epochs: int, steps_per_epoch: int, enabled: bool, console: Console | None = None):
        console = console or Console(stderr=True)
        self.enabled = enabled and console.is_terminal
        self.epochs = epochs
        self.progress = None
        if self.enabled:
            self.progress = Progress(
                TextColumn("[bold]epoch {task.fields[epoch]}/{task.fields[epochs]}"),
                BarColumn(), MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}  acc {task.fields[acc]}  {task.fields[speed]} samples/s"),
                TimeElapsedColumn(), console=console, transient=False,
            )
            self.task = self.progress.add_task("training", total=epochs * steps_per_epoch, epoch=0, epochs=epochs,
                                               loss="–", acc="–", speed="–")

    def __enter__(self) -> TrainingProgress:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()

    def epoch(self, epoch: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, epoch=epoch)

    def advance(self, loss: float, accuracy: float | None, samples_per_second: float) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, loss=f"{loss:.4f}",
                                 acc="–" if accuracy is None else f"{accuracy:.1%}",
                                 speed=f"{samples_per_second:,.0f}")
