"""One lock around every use of the autodiff engine in the lab.

The engine's switches (recording on/off, the trace recorder, transform depths) live in one process-wide
object, ``calcml.autodiff.state.STATE``, not per thread. The server answers requests on a thread pool and
trains in a background thread, so two computations at once could see each other's switches (a
``no_grad`` evaluation turning recording off under a race's backward pass). Holding ``ENGINE_LOCK``
while the engine runs keeps each computation alone with it; training takes it one epoch at a time.
"""

from __future__ import annotations

import threading

ENGINE_LOCK = threading.Lock()
