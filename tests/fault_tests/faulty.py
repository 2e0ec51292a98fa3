"""Estimators that misbehave on purpose, for the fault-injection tests (importable by worker
processes and ``solve`` subprocesses as ``tests.fault_tests.faulty``; the tests allow the
``tests`` package with AVATAR_ALLOW_PLUGINS)."""

from __future__ import annotations

import math
import os
import time

from avatar.objectives import SizeEstimator


class FaultySizeEstimator(SizeEstimator):
    """``size_mb``, except for models of ``hidden_size`` ``on`` (or every model, with ``on: 0``),
    where it does ``fault``: raise, return nan/inf/a string/None/a bool/a huge integer, sleep,
    swallow every exception while sleeping, raise SystemExit or KeyboardInterrupt, or kill
    its own process. ``raise_if_broken`` raises only while FAULTY_BROKEN is set: a fault of
    the environment that the user can fix."""

    name = "faulty_size"

    def __init__(self, *, fault: str = "raise", on: int = 64, seconds: float = 30.0) -> None:
        self.fault = fault
        self.on = on
        self.seconds = seconds

    def evaluate(self, config, context):
        if self.on and config["hidden_size"] != self.on:
            return super().evaluate(config, context)
        fault = self.fault
        if fault == "raise" or (fault == "raise_if_broken" and os.environ.get("FAULTY_BROKEN")):
            raise RuntimeError("the estimator broke")
        if fault == "sleep":
            time.sleep(self.seconds)
        if fault == "swallow":  # a loop that survives every exception a timeout could raise
            deadline = time.monotonic() + self.seconds
            while time.monotonic() < deadline:
                try:
                    time.sleep(0.05)
                except BaseException:  # noqa: BLE001 - swallowing is the fault under test
                    pass
        if fault == "exit":
            raise SystemExit(3)
        if fault == "interrupt":
            raise KeyboardInterrupt
        if fault == "os_exit":
            os._exit(7)
        returned = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "string": "12.5", "none": None, "bool": True, "huge": 10**400}
        if fault in returned:
            return returned[fault]
        return super().evaluate(config, context)
