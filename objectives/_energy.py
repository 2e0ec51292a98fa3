"""``energy_j`` and ``carbon_g`` per inference.

Energy comes from the Linux RAPL package counters over the timed runs of the latency protocol
when they are readable. Otherwise it is estimated as the CPU time of one inference times
``watts_per_core`` (default 10 W: between the per-core TDP of desktop parts, 65 W / 8 cores, and
server parts; set it for your CPU), and every report labels it an estimate.

Carbon is energy times the grid's carbon intensity. The default, 480 gCO2e/kWh, is the world
average of electricity generation in 2023 (Ember, Global Electricity Review 2024); set
``intensity_g_per_kwh`` for your grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import Context, Estimator, Measurement
from ._measure import InferenceMeasurement, MeasurementProtocol, RaplMeter, measure_inference

__all__ = ["EnergyEstimator", "CarbonEstimator", "DEFAULT_WATTS_PER_CORE", "DEFAULT_INTENSITY_G_PER_KWH", "JOULES_PER_KWH"]

DEFAULT_WATTS_PER_CORE = 10.0
DEFAULT_INTENSITY_G_PER_KWH = 480.0
JOULES_PER_KWH = 3.6e6


class EnergyEstimator(Estimator):
    """Energy of one inference in joules (RAPL when readable, else CPU time x power)."""

    name = "energy_j"
    unit = "J"
    direction = "minimize"
    kind = "measured"

    def __init__(self, *, watts_per_core: float = DEFAULT_WATTS_PER_CORE, warmup: int = 5, repeats: int = 20, rapl_root: str = "/sys/class/powercap") -> None:
        self.watts_per_core = watts_per_core
        self.warmup = warmup
        self.repeats = repeats
        self.rapl_root = rapl_root

    def evaluate(self, config: Mapping[str, Any], context: Context) -> Measurement:
        measurement = measure_inference(config, context, MeasurementProtocol(self.warmup, self.repeats), energy_meter=RaplMeter(self.rapl_root))
        joules, estimated = self.joules(measurement)
        return Measurement(joules, {"estimated": float(estimated)})

    def joules(self, measurement: InferenceMeasurement) -> tuple[float, bool]:
        """Energy of one timed inference, and whether it is an estimate (no RAPL counters). The
        trainer prices realised students with this too, so the spec's options apply to them."""
        if measurement.rapl_joules is not None:
            return measurement.rapl_joules, False
        return measurement.cpu_seconds * self.watts_per_core, True

    def method(self, context: Context) -> str:
        if RaplMeter(self.rapl_root).read() is not None:
            return "measured: RAPL package energy over the timed latency runs"
        return f"estimate: CPU time x {self.watts_per_core:g} W per core (RAPL counters not readable here)"


class CarbonEstimator(Estimator):
    """Emissions of one inference in grams CO2e: energy x grid carbon intensity."""

    name = "carbon_g"
    unit = "gCO2e"
    direction = "minimize"
    kind = "measured"

    def __init__(
        self,
        *,
        intensity_g_per_kwh: float = DEFAULT_INTENSITY_G_PER_KWH,
        watts_per_core: float = DEFAULT_WATTS_PER_CORE,
        warmup: int = 5,
        repeats: int = 20,
        rapl_root: str = "/sys/class/powercap",
    ) -> None:
        self.intensity_g_per_kwh = intensity_g_per_kwh
        self.watts_per_core = watts_per_core
        self.warmup = warmup
        self.repeats = repeats
        self.rapl_root = rapl_root

    def _energy(self) -> EnergyEstimator:
        return EnergyEstimator(watts_per_core=self.watts_per_core, warmup=self.warmup, repeats=self.repeats, rapl_root=self.rapl_root)

    def evaluate(self, config: Mapping[str, Any], context: Context) -> Measurement:
        energy = self._energy().evaluate(config, context)
        return Measurement(self.grams_of(energy.value), dict(energy.details))

    def grams(self, measurement: InferenceMeasurement) -> float:
        """Emissions of one timed inference (see ``EnergyEstimator.joules``)."""
        return self.grams_of(self._energy().joules(measurement)[0])

    def grams_of(self, joules: float) -> float:
        """Emissions of ``joules`` at this grid's intensity (a training phase's too)."""
        return joules / JOULES_PER_KWH * self.intensity_g_per_kwh

    def method(self, context: Context) -> str:
        return f"energy ({self._energy().method(context)}) x {self.intensity_g_per_kwh:g} gCO2e/kWh"
