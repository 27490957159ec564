"""pytest setup for the docstring examples of the package (``pytest --doctest-modules src/calcml``).

Every example may use ``np`` and ``cm`` without importing them, as the README does. Examples run in a
fresh temporary folder, so one that writes a picture leaves nothing behind, and matplotlib draws
off-screen. Symbolic calls get 60 s instead of the default 5 s: an example shows a result, it is not a
timing test, and a busy machine can take seconds to start the first symbolic worker.
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
    default_timeout = cm.symbolic.get_default_timeout()
    if not request.node.name.startswith("calcml.symbolic.timeout"):  # whose examples show the default itself
        cm.symbolic.set_default_timeout(60)
    yield
    cm.symbolic.set_default_timeout(default_timeout)
    import matplotlib.pyplot as plt

    plt.close("all")
