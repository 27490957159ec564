"""One warm worker pool shared by all symbolic tests (started once, so no test pays the cold start)."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def warm_symbolic_pool():
    from calcml.symbolic import workers

    workers.call("workers.probe", timeout=60)
    yield
