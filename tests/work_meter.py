"""Bound work by counting it, never by reading the clock.

A test that says "this input is refused fast" must not pass on an idle laptop and fail on a busy
2-core CI runner. What it can say, on every machine alike, is "this input is refused within so
much *work*". :class:`WorkBudget` measures work as the number of function calls made (Python
functions and C functions called from Python, e.g. ``hashlib``, ``zlib``, ``json``) in the
current thread while its block runs. The count depends on the code and the interpreter, not on
the machine or its load, so a budget is either kept everywhere or broken everywhere.

The budget is also a deterministic hang guard: as soon as it is exceeded, every further call
raises :class:`WorkBudgetExceeded` (a ``BaseException``, so the code under test cannot swallow
it with ``except Exception``), and the block fails with a message saying so. A loop that
calls no function is neither counted nor stopped (base58 decoding's inner loop is one: its
input length is what test_hostile_input checks, by spying on the decoder).

Budgets are set well above what the code needs today (the tests say by how much), so refactoring
does not trip them while an accidental quadratic or exponential path does. How long the same
work takes is measured in ``benchmarks/refusals.py``, never asserted in a test.
"""

from __future__ import annotations

import sys
from types import FrameType, TracebackType
from typing import Any

import pytest

__all__ = ["WorkBudget", "WorkBudgetExceeded"]


class WorkBudgetExceeded(BaseException):
    """Raised inside the code under test once a :class:`WorkBudget` block used up its budget."""


class WorkBudget:
    """Count the calls made in this thread while the block runs; fail if more than ``budget``.

    ``with WorkBudget(200_000, "refusing a poison graph") as work: ...`` then ``work.calls``.
    The thread's profile hook is restored afterwards; blocks do not nest (an inner block would
    stop the outer one counting). A class, not a generator: its ``__exit__`` must run even
    while every other call is being refused.
    """

    def __init__(self, budget: int, what: str = "the block") -> None:
        self.budget = budget
        self.what = what
        self.calls = 0
        self.exceeded = False
        self._previous: Any = None

    def _count(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" or event == "c_call":
            if frame.f_code is _EXIT_CODE:
                return  # never refuse the exit that switches counting off
            self.calls += 1
            if self.calls > self.budget:
                self.exceeded = True
                raise WorkBudgetExceeded(f"{self.what}: more than {self.budget} calls")

    def __enter__(self) -> WorkBudget:
        self._previous = sys.getprofile()
        sys.setprofile(self._count)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        sys.setprofile(self._previous)
        if self.exceeded:
            # whatever the code under test turned the refusal into, the verdict is the budget
            pytest.fail(f"work guard: {self.what} made more than {self.budget} function calls "
                        "(a runaway computation: the work is counted, not timed)")
        return False


_EXIT_CODE = WorkBudget.__exit__.__code__


class InflatedBytes:
    """Count what :mod:`skillcred.status` inflates: a GZIP bomb is bounded in bytes, not seconds.

    :meth:`install` swaps the ``zlib`` that ``skillcred.status`` sees for one whose
    ``decompressobj`` adds up the output of every ``decompress`` call (for the test's duration,
    through ``monkeypatch``); everything else is the real :mod:`zlib`.
    """

    def __init__(self) -> None:
        self.bytes = 0
        self.decompressors = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> InflatedBytes:
        import types
        import zlib

        from skillcred import status

        meter = self

        class Counting:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                self._real = zlib.decompressobj(*args, **kwargs)
                meter.decompressors += 1

            def decompress(self, data: bytes, max_length: int = 0) -> bytes:
                out = self._real.decompress(data, max_length)
                meter.bytes += len(out)
                return out

            def __getattr__(self, name: str) -> Any:  # eof, unused_data, unconsumed_tail, ...
                return getattr(self._real, name)

        proxy = types.ModuleType("zlib")
        proxy.__dict__.update(vars(zlib))
        proxy.decompressobj = Counting  # type: ignore[attr-defined]
        monkeypatch.setattr(status, "zlib", proxy)
        return self


class RdfcWork:
    """Record every RDFC-1.0 run in the block (its own call and step counters) and count every
    hash object it creates: a poison graph is bounded in counted work, not in seconds.

    The hash count is an independent measure of the work: each step scans one quad (at most two
    related hashes) or walks one permutation position, each call hashes once, each blank node
    has one first-degree hash. So ``hashes <= blank nodes + 2 * steps + calls`` shows that the
    counters the limits are enforced on account for all the hashing.
    """

    def __init__(self) -> None:
        self.runs: list[Any] = []  # the rdfc._Canonicalizer of every run, in order
        self.hashes = 0
        self._saved: tuple[Any, dict[str, Any]] | None = None

    def __enter__(self) -> RdfcWork:
        from skillcred._internal import rdfc

        run, hashes = rdfc._Canonicalizer.run, dict(rdfc._HASHES)
        self._saved = (run, hashes)

        def recording_run(canonicalizer: Any) -> Any:
            self.runs.append(canonicalizer)
            return run(canonicalizer)

        def counting(real: Any) -> Any:
            def new_hash(*args: Any) -> Any:
                self.hashes += 1
                return real(*args)

            return new_hash

        rdfc._Canonicalizer.run = recording_run  # type: ignore[method-assign]
        rdfc._HASHES.update({name: counting(real) for name, real in hashes.items()})
        return self

    def __exit__(self, *exc: object) -> None:
        from skillcred._internal import rdfc

        assert self._saved is not None
        run, hashes = self._saved
        rdfc._Canonicalizer.run = run  # type: ignore[method-assign]
        rdfc._HASHES.update(hashes)

    def assert_stopped_at_the_limits(self) -> Any:
        """Every run stayed within its documented limits (a refused one stopped right at them)
        and the hashing is accounted for by its counters; return the last run."""
        assert self.runs, "no RDFC-1.0 run was recorded"
        for run in self.runs:
            widest = max(map(len, run.bnode_to_quads.values()), default=0)  # one count adds a node's quads
            assert run._calls <= (run._max_calls or 0) + 1  # the call that trips the cap is the last
            assert run._steps <= run._max_steps + widest
        assert self.hashes <= sum(len(r.bnode_to_quads) + 2 * r._steps + r._calls for r in self.runs)
        return self.runs[-1]
