"""The energy of a training phase: measured where counters are readable (RAPL; CodeCarbon's
RAPL and NVML with the ``energy`` extra), estimated and labelled so where they are not, and
never the reason a phase fails."""

from __future__ import annotations

import sys
import types

import pytest

from avatar.objectives import BuiltinMeter, CodeCarbonMeter, metered, phase_meter
from avatar.objectives._phase_energy import _codecarbon_source
from avatar.specs import EnergyRecord


def _busy(seconds: float = 0.05) -> None:
    import time

    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_rapl_counters_are_measured_energy(tmp_path):
    domain = tmp_path / "intel-rapl:0"
    domain.mkdir()
    (domain / "energy_uj").write_text("1000000")
    (domain / "max_energy_range_uj").write_text("262143328850")
    meter = BuiltinMeter(rapl_root=str(tmp_path))
    meter.start()
    (domain / "energy_uj").write_text("3500000")  # 2.5 J later
    record = meter.stop()
    assert record.measured and record.joules == pytest.approx(2.5) and "RAPL" in record.source


def test_without_counters_the_energy_is_cpu_time_times_the_power_and_says_so(tmp_path):
    meter = BuiltinMeter(watts_per_core=20.0, rapl_root=str(tmp_path / "none"))
    meter.start()
    _busy()
    record = meter.stop()
    assert not record.measured and "estimate: CPU time x 20 W per core" in record.source
    assert 0.05 * 20.0 * 0.9 <= record.joules <= 5.0 and record.seconds is not None and record.seconds > 0


class _Data:
    def __init__(self, gpu_energy: float) -> None:
        self.energy_consumed, self.duration, self.gpu_energy = 0.001, 3.0, gpu_energy  # kWh, s, kWh


class CPU:  # CodeCarbon names its CPU part so; the meter reads its mode
    def __init__(self, mode: str) -> None:
        self._mode = mode


def _fake_codecarbon(monkeypatch, cpu_mode: str, gpu_energy: float = 0.0) -> list:
    started: list = []

    class OfflineEmissionsTracker:
        def __init__(self, **options) -> None:
            self.options, self._hardware = options, [CPU(cpu_mode)]

        def start(self) -> None:
            started.append(self.options)

        def stop(self) -> float:
            self.final_emissions_data = _Data(gpu_energy)
            return 0.0

    monkeypatch.setitem(sys.modules, "codecarbon", types.SimpleNamespace(OfflineEmissionsTracker=OfflineEmissionsTracker))
    return started


@pytest.mark.parametrize(
    ("cpu_mode", "gpu_energy", "measured", "said"),
    [("intel_rapl", 0.0, True, "CPU intel_rapl"), ("cpu_load", 0.0002, True, "GPU by NVML"), ("cpu_load", 0.0, False, "an estimate, no counter was readable")],
)
def test_codecarbon_is_used_when_installed_and_says_what_it_read(monkeypatch, cpu_mode, gpu_energy, measured, said):
    started = _fake_codecarbon(monkeypatch, cpu_mode, gpu_energy)
    meter = phase_meter()
    assert isinstance(meter, CodeCarbonMeter)
    with metered(meter) as result:
        pass
    assert started and started[0]["save_to_file"] is False, "offline, no file of its own"
    record = result.record
    assert record is not None and record.joules == pytest.approx(3600.0) and record.seconds == 3.0
    assert record.measured is measured and said in record.source and record.source.startswith("CodeCarbon")


def test_without_the_extra_avatars_own_meter_is_used(monkeypatch):
    monkeypatch.setitem(sys.modules, "codecarbon", None)  # import fails
    assert isinstance(phase_meter(12.0), BuiltinMeter) and phase_meter(12.0).watts_per_core == 12.0


def test_a_meter_that_fails_never_costs_the_phase(caplog):
    class Broken:
        def start(self) -> None:
            raise OSError("permission denied")

        def stop(self) -> EnergyRecord:
            raise AssertionError("not started")

    ran = []
    with metered(Broken()) as result:
        ran.append(True)
    assert ran and result.record is None and "energy not measured: permission denied" in caplog.text


def test_a_failing_phase_still_stops_its_meter():
    stopped = []

    class Meter:
        def start(self) -> None:
            pass

        def stop(self) -> EnergyRecord:
            stopped.append(True)
            return EnergyRecord(1.0, False, "test")

    with pytest.raises(KeyboardInterrupt), metered(Meter()):
        raise KeyboardInterrupt
    assert stopped, "no tracker is left running"


def test_the_record_survives_a_json_round_trip():
    record = EnergyRecord(12.5, True, "RAPL package counters", 3.0, 0.0017)
    assert EnergyRecord.from_dict(record.to_dict()) == record
    assert EnergyRecord.from_dict({"joules": 1, "measured": False, "source": "x"}) == EnergyRecord(1.0, False, "x")
    with pytest.raises(ValueError, match="measured"):
        EnergyRecord.from_dict({"joules": 1.0, "measured": "yes", "source": "x"})


def test_codecarbon_source_without_its_private_parts_is_an_estimate():
    measured, source = _codecarbon_source(object(), types.SimpleNamespace())
    assert not measured and "modelled" in source
