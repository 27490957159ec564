"""One warm worker pool shared by all symbolic tests (started once, so no test pays the cold start).

The default limit is raised to 30 s for the session: these tests check answers, and a loaded CI
machine must not turn a 2 s integral into a timeout. Limits are tested with explicit ``timeout=``.
"""

import pytest


@pytest.fixture(scope="session", autouse=True)
def warm_symbolic_pool():
    from calcml.symbolic import get_default_timeout, set_default_timeout, workers

    workers.call("workers.probe", timeout=60)
    old = get_default_timeout()
    set_default_timeout(30)
    yield
    set_default_timeout(old)
