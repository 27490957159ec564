"""The table of primitives, by family. Importing this package registers every rule."""

from calcml.autodiff.rules import (  # noqa: F401
    contraction,
    decompositions,
    elementwise,
    grids,
    indexing,
    join,
    linalg,
    order,
    reductions,
    shape,
)
