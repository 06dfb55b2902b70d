"""One native thread for model fits: ``with single_threaded(): ...``.

The domain classifier, DLE's loss models and the leakage scores fit small gradient-boosted models on a few
thousand rows: more OpenMP/BLAS threads gain little there, and under CPU contention (a server ingesting
while it evaluates, a CI run) OpenMP's spin-waiting stalled a 0.2 s fit to 12 s. ``threadpoolctl``'s
``threadpool_limits`` finds the native libraries anew on every call by walking every shared object the
process has loaded — 3 to 16 ms each time on a server (issue 15: twice per window evaluation). The
libraries are found once here instead, after importing scikit-learn (which loads its OpenMP runtime, and
SciPy's and NumPy's OpenBLAS); a threading library loaded later still is not limited.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None
_lock = threading.Lock()


@contextmanager
def single_threaded() -> Iterator[None]:
    """Limit every known OpenMP and BLAS library to one thread within the block (restored after it)."""
    with _controller_once().limit(limits=1):
        yield


def _controller_once() -> ThreadpoolController:
    global _controller
    with _lock:
        if _controller is None:
            import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime, SciPy's BLAS)
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController()
        return _controller
