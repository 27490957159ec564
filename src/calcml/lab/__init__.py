"""The local web lab: ``calcml lab`` serves one page with five panels on 127.0.0.1 (FastAPI + uvicorn).

Panels: derivative explorer, optimizer race, backprop stepper, integral explorer, training on the digits.
Plotly.js comes from the installed ``plotly`` package; nothing is fetched from elsewhere.
"""

from calcml.lab.app import create_app
from calcml.lab.server import LabServer, serve

__all__ = ["LabServer", "create_app", "serve"]
