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


class WrongClosedFormSizeEstimator(SizeEstimator):
    """``size_mb`` whose closed form is ``1 / shrink`` of what it evaluates: a plugin whose
    ``symbolic`` is wrong, so the space admits points its limit should refuse (with
    ``shrink: 1`` the two agree)."""

    name = "wrong_size"

    def __init__(self, *, shrink: float = 10.0) -> None:
        self.shrink = shrink

    def symbolic(self, config, context):
        from fractions import Fraction

        return super().symbolic(config, context) * (Fraction(1) / Fraction(repr(self.shrink)))


class UnprintableError(RuntimeError):
    """An exception whose message cannot be had: its ``__str__`` and ``__repr__`` raise."""

    def __str__(self) -> str:
        raise ValueError("no message for you")

    def __repr__(self) -> str:
        raise ValueError("no repr either")


class MisbehavingSizeEstimator(SizeEstimator):
    """``size_mb``, except where ``fault`` says: ``unprintable`` raises an exception whose
    ``__str__`` raises (on ``hidden_size`` 64); ``init`` raises from ``__init__``; ``symbolic``
    makes ``symbolic()`` return a string, ``symbolic_raises`` makes it raise, ``boolean``
    makes it return a formula instead of a number."""

    name = "misbehaving_size"

    def __init__(self, *, fault: str = "unprintable") -> None:
        if fault == "init":
            raise LookupError("the plugin cannot find its model file")
        self.fault = fault

    def evaluate(self, config, context):
        if self.fault == "unprintable" and config["hidden_size"] == 64:
            raise UnprintableError()
        return super().evaluate(config, context)

    def symbolic(self, config, context):
        if self.fault == "symbolic":
            return "twelve"
        if self.fault == "symbolic_raises":
            raise ZeroDivisionError("closed form divides by zero")
        if self.fault == "boolean":
            from pysmt.shortcuts import TRUE

            return TRUE()
        return super().symbolic(config, context)
