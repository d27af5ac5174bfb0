"""CPU thread limits of a process: BLAS and OpenMP pools (threadpoolctl) and torch.

A table search fits small models (a GP on tens of points, XGBoost on hundreds of rows): thread
pools cost more in spinning and synchronisation than they save there, and ``compare --jobs N``
multiplies them by N. ``set_thread_limits`` is called once per process by the CLI (``search``
and ``compare`` take ``--threads``) and by ``compare``'s worker processes:

* pools already loaded (numpy's OpenBLAS, ...) are limited with ``threadpoolctl``;
* ``OMP_NUM_THREADS`` and its BLAS siblings are set in the environment, so libraries loaded later
  (torch, XGBoost's OpenMP) start with that many threads, and so do child processes;
* torch, if it is already imported, gets ``torch.set_num_threads`` (it is never imported here:
  ``import predictor_nas`` stays light).

``PREDICTOR_NAS_THREADS`` carries the value to spawned workers (``compare --jobs``), which apply
it in their initializer (``limit_threads_from_env``).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from threadpoolctl import threadpool_info, threadpool_limits

from predictor_nas._validation import check_int

log = logging.getLogger(__name__)

#: Environment variables read by OpenMP and the BLAS libraries when they load.
THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
#: Carries the limit to spawned worker processes.
ENV = "PREDICTOR_NAS_THREADS"
#: The largest thread limit taken (more than any machine's cores; the C libraries take an int).
MAX_THREADS = 4096
_limiter: Any = None  # the threadpoolctl limiter, kept for the life of the process


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask; ``os.cpu_count`` elsewhere)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """The thread limit ``search`` and ``compare`` take when ``--threads`` is not given.

    An ``OMP_NUM_THREADS`` set by the user (a positive int) wins; otherwise 1. Measured on
    NB201 (``search --strategy gp --budget 50``, same trajectory): 34.8 CPU-s and 69 s wall with
    torch's default threads (2 cores, loaded machine) against 7.4 CPU-s and 10.7 s wall with 1
    thread; the issue's idle measurement was 52 against 9 CPU-s. A table search's fits (a GP
    on tens to hundreds of points, XGBoost held to one thread, TPE in numpy) are too small for
    a pool to pay for its spinning, and ``compare --jobs N`` runs N of them side by side.
    Real training (``search --evaluator train``) is not limited unless ``--threads`` is given.

    Returns:
        An int >= 1.
    """
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.strip().isdigit() and 1 <= int(env) <= MAX_THREADS:
        return int(env)
    return 1


def set_thread_limits(n: int, owner: str = "threads") -> int:
    """Limit this process (and the processes it starts) to ``n`` threads per pool.

    Args:
        n: Threads per pool, in ``[1, MAX_THREADS]``.
        owner: Who asks (for the error message), e.g. ``"search"``.

    Returns:
        ``n``.

    Raises:
        InvalidParameterError: ``n`` is not an int in ``[1, MAX_THREADS]`` (checked before
            anything is set: a refused value leaves the environment as it was).
    """
    global _limiter
    n = check_int(n, "threads", owner, minimum=1, maximum=MAX_THREADS)
    for name in (*THREAD_ENV, ENV):
        os.environ[name] = str(n)

    _limiter = threadpool_limits(limits=n)
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_num_threads"):
        torch.set_num_threads(n)
    log.debug("thread limit %d per pool", n)
    return n


def limit_threads_from_env() -> int | None:
    """Apply ``PREDICTOR_NAS_THREADS`` if the parent set it (a worker's initializer).

    Returns:
        The limit applied, or ``None`` when the variable is unset or not a positive int.
    """
    value = os.environ.get(ENV, "")
    if not value.strip().isdigit() or not 1 <= int(value) <= MAX_THREADS:
        return None
    return set_thread_limits(int(value))


def thread_counts() -> dict[str, int]:
    """Threads of each loaded pool: ``{internal_api: num_threads}`` (the largest per API) and
    ``"torch"`` when torch is imported."""

    out: dict[str, int] = {}
    for pool in threadpool_info():
        api = str(pool.get("internal_api"))
        out[api] = max(out.get(api, 0), int(pool.get("num_threads", 0)))
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "get_num_threads"):
        out["torch"] = int(torch.get_num_threads())
    return out
