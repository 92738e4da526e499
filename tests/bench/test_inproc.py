"""bench/inproc.py: the section timer adds up the thread CPU of the functions it wraps."""

from __future__ import annotations

import sys
import types

from bench.inproc import _timed


def test_a_timed_function_answers_as_before_and_adds_up_its_cpu() -> None:
    module = types.ModuleType("inproc_probe")

    def busy(n: int) -> int:
        return sum(i * i for i in range(n))

    class Worker:
        def run(self, n: int) -> int:
            return busy(n)

    module.busy = busy  # type: ignore[attr-defined]
    module.Worker = Worker  # type: ignore[attr-defined]
    sys.modules["inproc_probe"] = module
    try:
        spent = _timed(["inproc_probe:busy", "inproc_probe:Worker.run"])
        assert module.busy(10) == busy(10)
        assert module.Worker().run(200_000) == busy(200_000)
        assert spent["inproc_probe:Worker.run"][0] > 0
        assert module.busy.__name__ == "busy"
    finally:
        del sys.modules["inproc_probe"]
