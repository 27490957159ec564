"""``cm.vmap``: a function of one example, run on a whole batch by tracing it once and replaying the record.

    trace.py      the record of one example's operations, and what makes it unreplayable
    rules.py      how each operation runs on a batch (the rules primitives carry)
    linalg.py     the rules of np.linalg (solve's vectors, lstsq as A⁺b, norm's axes) and of recorded refusals
    order.py      the rules of argsort, argpartition, searchsorted and take (sorting, quantiles, interp)
    transform.py  the transform: trace, replay, check, or fall back to one example at a time
"""

import calcml.autodiff.batching.linalg  # noqa: F401  (registers its batching rules)
import calcml.autodiff.batching.order  # noqa: F401  (registers its batching rules)
from calcml.autodiff.batching.transform import BatchingError, vmap

__all__ = ["BatchingError", "vmap"]
