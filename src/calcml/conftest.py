"""pytest setup for the docstring examples of the package (``pytest --doctest-modules src/calcml``).

Every example may use ``np`` and ``cm`` without importing them, as the README does. Examples run in a
fresh temporary folder, so one that writes a picture leaves nothing behind, and matplotlib draws
off-screen.
"""

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _doctest_setup(request, doctest_namespace, tmp_path, monkeypatch):
    if request.node.__class__.__name__ != "DoctestItem":
        yield
        return
    import matplotlib

    matplotlib.use("Agg", force=True)
    import calcml as cm

    doctest_namespace["np"] = np
    doctest_namespace["cm"] = cm
    monkeypatch.chdir(tmp_path)
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
