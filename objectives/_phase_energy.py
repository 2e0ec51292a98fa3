"""The energy a training phase takes (the teacher's fine-tuning, a student's distillation),
measured where the hardware allows and estimated, and labelled so, where it does not.

With the ``energy`` extra installed, CodeCarbon tracks the phase: it reads Intel and AMD RAPL
counters for the CPU and NVML for NVIDIA GPUs, and models what it cannot read (the CPU from its
load and TDP, the memory from its size). Without it, Avatar's own meter reads the RAPL package
counters (``RaplMeter``) when they are readable, and otherwise estimates the energy as the
process's CPU time times ``watts_per_core``, the estimate the per-inference ``energy_j`` uses.
Either way the record says which figure it is (``EnergyRecord.measured`` and ``source``).

RAPL counters and CodeCarbon's machine-wide figures count everything the machine ran during the
phase, work beside the run included; the CPU-time estimate counts this process alone. A
training resumed after a kill counts the energy since it resumed.

The search's ``energy_j`` and ``carbon_g`` objectives keep their closed forms and per-inference
measurements: this meter prices what realising the chosen students cost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from avatar.specs import EnergyRecord

from ._energy import DEFAULT_WATTS_PER_CORE, JOULES_PER_KWH
from ._measure import RaplMeter

__all__ = ["PhaseMeter", "BuiltinMeter", "CodeCarbonMeter", "phase_meter", "metered", "Metered"]

_MEASURING_CPU_MODES = {"intel_rapl", "intel_power_gadget", "apple_powermetrics", "amd_rapl"}  # CodeCarbon's CPU modes that read counters


class PhaseMeter(Protocol):
    """Measures one phase: ``start()`` before it, ``stop()`` after it."""

    def start(self) -> None: ...

    def stop(self) -> EnergyRecord: ...


class BuiltinMeter:
    """RAPL package counters when readable, else this process's CPU time x ``watts_per_core``."""

    def __init__(self, watts_per_core: float = DEFAULT_WATTS_PER_CORE, rapl_root: str = "/sys/class/powercap") -> None:
        self.watts_per_core, self.rapl = watts_per_core, RaplMeter(rapl_root)
        self._rapl_start: dict[str, int] | None = None
        self._cpu_start = self._wall_start = 0.0

    def start(self) -> None:
        self._rapl_start, self._cpu_start, self._wall_start = self.rapl.read(), time.process_time(), time.perf_counter()

    def stop(self) -> EnergyRecord:
        seconds = time.perf_counter() - self._wall_start
        joules = self.rapl.joules(self._rapl_start, self.rapl.read())
        if joules is not None:
            return EnergyRecord(joules, True, "RAPL package counters (the whole CPU package)", seconds)
        cpu_seconds = time.process_time() - self._cpu_start
        return EnergyRecord(cpu_seconds * self.watts_per_core, False, f"estimate: CPU time x {self.watts_per_core:g} W per core (RAPL counters not readable here)", seconds)


class CodeCarbonMeter:
    """CodeCarbon's offline tracker (the ``energy`` extra): RAPL and NVML where readable."""

    def __init__(self) -> None:
        from codecarbon import OfflineEmissionsTracker  # ImportError: the extra is not installed

        self._tracker_class = OfflineEmissionsTracker
        self._tracker: Any = None

    def start(self) -> None:
        logging.getLogger("codecarbon").setLevel(logging.ERROR)  # its start-up lines would fill the terminal, one set per student
        # the grid's intensity is Avatar's own (carbon_g); CodeCarbon's country only keeps it offline
        self._tracker = self._tracker_class(country_iso_code="USA", save_to_file=False, log_level="error")
        self._tracker.start()

    def stop(self) -> EnergyRecord:
        self._tracker.stop()
        data = self._tracker.final_emissions_data
        measured, source = _codecarbon_source(self._tracker, data)
        return EnergyRecord(float(data.energy_consumed) * JOULES_PER_KWH, measured, source, float(data.duration))


def _codecarbon_source(tracker: Any, data: Any) -> tuple[bool, str]:
    """Whether CodeCarbon read counters (a CPU mode that reads RAPL, or a GPU through NVML), and
    what it says it did."""
    cpu_modes = {str(getattr(part, "_mode", "")) for part in getattr(tracker, "_hardware", []) if type(part).__name__ == "CPU"}
    gpu = float(getattr(data, "gpu_energy", 0.0) or 0.0) > 0.0
    reads_cpu = bool(cpu_modes & _MEASURING_CPU_MODES)
    cpu = f"CPU {', '.join(sorted(mode for mode in cpu_modes if mode)) or 'modelled'}"
    parts = [cpu, *(["GPU by NVML"] if gpu else []), "memory modelled"]
    return reads_cpu or gpu, f"CodeCarbon ({'; '.join(parts)})" + ("" if reads_cpu or gpu else ": an estimate, no counter was readable")


def phase_meter(watts_per_core: float = DEFAULT_WATTS_PER_CORE) -> PhaseMeter:
    """CodeCarbon's meter when the ``energy`` extra is installed, else Avatar's own."""
    try:
        return CodeCarbonMeter()
    except ImportError:
        return BuiltinMeter(watts_per_core)


@dataclass
class Metered:
    """What ``metered`` measured, filled in when its block ends (``None`` before)."""

    record: EnergyRecord | None = None


@contextmanager
def metered(meter: PhaseMeter | None = None) -> Iterator[Metered]:
    """Measure the block's energy with ``meter`` (``phase_meter()`` by default). A meter that
    fails never costs the phase its work: its record stays ``None`` and the reason is logged."""
    meter = meter or phase_meter()
    result = Metered()
    try:
        meter.start()
    except Exception as error:  # noqa: BLE001 - a meter is a bystander: training goes on without it
        logging.getLogger(__name__).warning("energy not measured: %s", error)
        yield result
        return
    try:
        yield result
    finally:  # stopped even when the phase fails, so no tracker is left running
        try:
            result.record = meter.stop()
        except Exception as error:  # noqa: BLE001
            logging.getLogger(__name__).warning("energy not measured: %s", error)
