"""Learning-rate schedules: η as a function of the epoch t, written into ``optimizer.lr`` by ``step()``.

    StepLR              η_t = η₀ γ^⌊t / step_size⌋
    ExponentialLR       η_t = η₀ γ^t
    CosineAnnealingLR   η_t = η_min + ½ (η₀ − η_min)(1 + cos(π t / T_max))

Call ``scheduler.step()`` once per epoch, after the optimizer's steps. The values equal
``torch.optim.lr_scheduler``'s epoch by epoch (torch updates recursively; these closed forms give the
same numbers up to rounding, and ignore any change made to ``optimizer.lr`` by hand in between).
"""

from __future__ import annotations

import math

from calcml.optim.optimizer import HyperparameterError, Optimizer, check_range


class LRSchedule:
    """Base class: remembers the optimizer's starting learning rate η₀ and counts epochs."""

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} schedules a cm.optim optimizer, "
                            f"got {type(optimizer).__name__}.")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        """η at the given epoch."""
        raise NotImplementedError

    def step(self) -> None:
        """Move to the next epoch and set the optimizer's learning rate for it."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> float:
        """The learning rate set by the last ``step()`` (η₀ before the first)."""
        return self.lr_at(self.last_epoch)

    def state_dict(self) -> dict:
        """The schedule's state (base learning rate and last epoch), to save and restore."""
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict) -> None:
        """Restore a state from ``state_dict()`` and set the optimizer's learning rate to match."""
        self.base_lr, self.last_epoch = float(state["base_lr"]), int(state["last_epoch"])
        self.optimizer.lr = self.lr_at(self.last_epoch)


class StepLR(LRSchedule):
    """Multiply η by γ every ``step_size`` epochs:  η_t = η₀ γ^⌊t / step_size⌋.

    >>> opt = cm.optim.SGD([cm.Tensor(np.zeros(2), requires_grad=True)], lr=0.1)
    >>> schedule = cm.optim.StepLR(opt, step_size=30, gamma=0.1)   # η₀, then η₀/10 from epoch 30
    >>> [schedule.lr_at(t) for t in (0, 29, 30, 60)]
    [0.1, 0.1, 0.01, 0.001]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise HyperparameterError(f"StepLR: step_size must be a positive whole number of epochs, "
                                      f"got {step_size!r}.")
        self.step_size = step_size
        self.gamma = check_range("StepLR", "gamma", gamma)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRSchedule):
    """Multiply η by γ every epoch:  η_t = η₀ γ^t.

    >>> opt = cm.optim.SGD([cm.Tensor(np.zeros(2), requires_grad=True)], lr=0.1)
    >>> schedule = cm.optim.ExponentialLR(opt, gamma=0.95)
    >>> [schedule.lr_at(t) for t in (0, 1, 2)]
    [0.1, 0.095, 0.09025]
    """

    def __init__(self, optimizer: Optimizer, gamma: float):
        super().__init__(optimizer)
        self.gamma = check_range("ExponentialLR", "gamma", gamma)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma**epoch


class CosineAnnealingLR(LRSchedule):
    """Follow half a cosine from η₀ down to η_min over T_max epochs (and back up over the next T_max):

        η_t = η_min + ½ (η₀ − η_min)(1 + cos(π t / T_max))

    >>> opt = cm.optim.SGD([cm.Tensor(np.zeros(2), requires_grad=True)], lr=0.1)
    >>> schedule = cm.optim.CosineAnnealingLR(opt, T_max=50, eta_min=1e-5)
    >>> [schedule.lr_at(t) for t in (0, 25, 50)]          # η₀, halfway, η_min
    [0.1, 0.050005, 1e-05]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer)
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise HyperparameterError(f"CosineAnnealingLR: T_max must be a positive whole number of epochs, "
                                      f"got {T_max!r}.")
        self.T_max = T_max
        self.eta_min = check_range("CosineAnnealingLR", "eta_min", eta_min)

    def lr_at(self, epoch: int) -> float:
        cosine = math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + cosine) / 2
