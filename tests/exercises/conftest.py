"""The symbolic tests' warm worker pool (tests/symbolic_pool.py, shared with tests/symbolic)."""

from tests.symbolic_pool import warm_symbolic_pool  # noqa: F401  (an autouse session fixture)
