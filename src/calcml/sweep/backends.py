"""Where independent pieces of work run: in this process ("serial"), in local worker processes ("processes",
joblib/loky), or on a Dask cluster ("dask", a ``distributed.Client``). The scheduling is joblib's or Dask's.

A ``Session`` yields ``(index, result)`` pairs as pieces finish, in any order; callers put them back in order,
so results never depend on which worker finished first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from calcml.sweep.errors import BackendUnavailableError, SweepInputError

BACKENDS = ("serial", "processes", "dask")
INSTALL_HINT = "install it with: pip install 'calcml[scale]' (or use backend='serial')"


def resolve_backend(backend: str | None, client: Any, default: str) -> str:
    """The backend to use: ``backend``, or "dask" when only a client was given, else ``default``.

    >>> resolve_backend(None, None, "serial"), resolve_backend(None, "tcp://10.0.0.5:8786", "serial")
    ('serial', 'dask')
    """
    chosen = backend if backend is not None else ("dask" if client is not None else default)
    if chosen not in BACKENDS:
        raise SweepInputError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, not {backend!r}.")
    if client is not None and chosen != "dask":
        raise SweepInputError(f"client= is a Dask client or scheduler address, used only with backend='dask' "
                              f"(got backend={chosen!r}); drop client= or choose backend='dask'.")
    return chosen


def _indexed(fn: Callable[[Any], Any], index: int, item: Any) -> tuple[int, Any]:
    return index, fn(item)


@dataclass
class Session:
    """An open backend: its name, how many pieces it runs at once, and (for Dask) the client."""

    name: str
    workers: int
    n_jobs: int | None = None
    client: Any = None

    def run_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """``(i, fn(items[i]))`` for every i, as each finishes; an exception in ``fn`` is raised here."""
        if self.name == "serial":
            for index, item in enumerate(items):
                yield index, fn(item)
        elif self.name == "processes":
            from joblib import Parallel, delayed

            run = Parallel(n_jobs=self.n_jobs or -1, return_as="generator_unordered")
            yield from run(delayed(_indexed)(fn, index, item) for index, item in enumerate(items))
        else:
            from distributed import as_completed

            futures = [self.client.submit(_indexed, fn, index, item, pure=False) for index, item in enumerate(items)]
            try:
                for future in as_completed(futures, loop=self.client.loop):
                    yield future.result()
            finally:  # the caller stopped early or a piece failed: nothing keeps running on the cluster
                self.client.cancel(futures)

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``[fn(item) for item in items]``, computed on the backend, in the order of ``items``."""
        results: list[Any] = [None] * len(items)
        for index, result in self.run_unordered(fn, items):
            results[index] = result
        return results


@contextmanager
def session(backend: str | None = None, client: Any = None, n_jobs: int | None = None,
            default: str = "processes") -> Iterator[Session]:
    """Open the backend for a batch of work; a client opened here from an address is closed afterwards.

    ``client``: a ``distributed.Client``, or a scheduler address ("tcp://host:8786"); with backend="dask" and
    no client, Dask's default client (the one most recently created in this process).

    >>> with session("serial") as s:
    ...     s.run(abs, [-1, 2, -3])
    [1, 2, 3]
    """
    name = resolve_backend(backend, client, default)
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1):
        raise SweepInputError(f"n_jobs must be a whole number ≥ 1 (or None for every core), not {n_jobs!r}.")
    if name == "serial":
        yield Session("serial", 1)
    elif name == "processes":
        try:
            import joblib
        except ImportError:
            raise BackendUnavailableError(f"backend='processes' needs joblib; {INSTALL_HINT}.") from None
        yield Session("processes", n_jobs or joblib.cpu_count(), n_jobs=n_jobs)
    else:
        own, dask_client = _dask_client(client)
        try:
            workers = sum(dask_client.nthreads().values())
            if workers == 0:
                raise BackendUnavailableError("the Dask cluster has no workers: start some with "
                                              f"`dask worker {dask_client.scheduler.address}`.")
            yield Session("dask", workers, client=dask_client)
        finally:
            if own:
                dask_client.close()


def _dask_client(client: Any) -> tuple[bool, Any]:
    """(opened here?, the client): the one given, one connected to an address, or Dask's default client."""
    try:
        import distributed
    except ImportError:
        raise BackendUnavailableError(f"backend='dask' needs dask.distributed; {INSTALL_HINT}.") from None
    if isinstance(client, distributed.Client):
        return False, client
    if isinstance(client, str):
        try:
            return True, distributed.Client(client, set_as_default=False)  # Dask's connect timeout (config)
        except (OSError, TimeoutError) as error:
            raise BackendUnavailableError(
                f"cannot reach the Dask scheduler at {client!r} ({error}).\n  start one with `dask scheduler` and "
                "workers with `dask worker <address>`, or pass a distributed.Client.") from None
    if client is None:
        try:
            return False, distributed.default_client()
        except ValueError:
            raise SweepInputError(
                "backend='dask' needs client=: a distributed.Client, or a scheduler address such as "
                "'tcp://10.0.0.5:8786'.\n  on one machine: from distributed import Client, LocalCluster; "
                "client = Client(LocalCluster(n_workers=2)).") from None
    raise SweepInputError(f"client must be a distributed.Client or a scheduler address string, not {client!r}.")
