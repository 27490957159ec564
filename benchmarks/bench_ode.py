"""dopri5: accepted steps, function evaluations and wall time against scipy.integrate.solve_ivp(RK45) and
torchdiffeq (dopri5, torch CPU, 2 threads), same problems and tolerances, one process.

Targets: steps within 20% of solve_ivp's; faster than torchdiffeq.  Run: .venv/bin/python benchmarks/bench_ode.py
"""

from __future__ import annotations

import numpy as np
import torch
import torchdiffeq
from scipy.integrate import solve_ivp
from timing import median_seconds

from calcml import ode
from calcml.ode import problems

torch.set_num_threads(2)
torch.set_default_dtype(torch.float64)

PROBLEMS = [problems.van_der_pol(), problems.lotka_volterra(), problems.arenstorf(), problems.DETEST_A[2],
            problems.harmonic_oscillator()]


def torch_field(problem):
    """The same NumPy vector field behind torch tensors (zero-copy), so all three solvers pay the same for f
    and the comparison measures the solvers' own machinery."""
    def f(t, y):
        return torch.from_numpy(np.asarray(problem.f(float(t), y.numpy()), dtype=np.float64))
    return f


def main() -> None:
    print(f"{'problem':<28}{'rtol':>7}{'steps':>8}{'scipy':>8}{'ratio':>7}{'nfev':>7}{'scipy':>7}{'torch':>7}"
          f"{'calcml ms':>11}{'scipy ms':>10}{'torch ms':>10}{'/scipy':>8}{'/torch':>8}")
    for problem in PROBLEMS:
        for rtol in (1e-4, 1e-6, 1e-8):
            atol = rtol * 1e-2
            ours = ode.solve(problem.f, problem.y0, problem.t_span, rtol=rtol, atol=atol)
            ref = solve_ivp(problem.f, problem.t_span, problem.y0, rtol=rtol, atol=atol)
            calls = [0]
            field = torch_field(problem)

            def counted(t, y):
                calls[0] += 1
                return field(t, y)

            y0, ts = torch.tensor(problem.y0), torch.tensor(problem.t_span)
            torchdiffeq.odeint(counted, y0, ts, method="dopri5", rtol=rtol, atol=atol)
            repeats = 5 if rtol < 1e-7 else 15
            t_ours = median_seconds(lambda: ode.solve(problem.f, problem.y0, problem.t_span, rtol=rtol, atol=atol),
                                    repeats=repeats, warmup=1)
            t_scipy = median_seconds(lambda: solve_ivp(problem.f, problem.t_span, problem.y0, rtol=rtol, atol=atol),
                                     repeats=repeats, warmup=1)
            with torch.no_grad():
                t_torch = median_seconds(lambda: torchdiffeq.odeint(field, y0, ts, method="dopri5", rtol=rtol,
                                                                    atol=atol), repeats=repeats, warmup=1)
            scipy_steps = len(ref.t) - 1
            print(f"{problem.name.split(':')[0]:<28}{rtol:>7.0e}{ours.steps:>8}{scipy_steps:>8}"
                  f"{ours.steps / scipy_steps:>7.2f}{ours.nfev:>7}{ref.nfev:>7}{calls[0]:>7}"
                  f"{t_ours * 1e3:>11.2f}{t_scipy * 1e3:>10.2f}{t_torch * 1e3:>10.2f}"
                  f"{t_ours / t_scipy:>8.2f}{t_ours / t_torch:>8.2f}")


if __name__ == "__main__":
    main()
