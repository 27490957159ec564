"""The local web lab: ``calcml lab`` serves one page with six panels on 127.0.0.1 (FastAPI + uvicorn).

Panels: derivative explorer, optimizer race, backprop stepper, integral explorer, training on the digits, and
curvature (the Hessian's λ_max over training against 2/η, its top eigenvalues and spectral density).
Plotly.js comes from the installed ``plotly`` package; nothing is fetched from elsewhere.
"""

from calcml.lab.app import create_app
from calcml.lab.server import LabServer, serve

__all__ = ["LabServer", "create_app", "serve"]
