"""The inference measurement protocol shared by ``latency_ms`` and ``energy_j``.

Protocol: the family builds the model with random weights (seed 0) in eval mode, in the spec's
dtype, on the spec's device; ``torch.set_num_threads(context.threads)``; one input of batch 1 at
the configured sequence length (a pair for clone); ``warmup`` untimed runs, then ``repeats``
timed runs. Latency is the median of the timed runs (p90 kept too); CPU time and, where the
Linux RAPL counters are readable, package energy are taken over the timed runs.

Results are cached on disk by everything that can change them (the architecture, task, dtype,
device, threads, protocol, torch version and machine), never by dropout, learning rate or batch
size, so one measurement serves every configuration that only differs in those.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from avatar.specs import PAIR_KINDS, Cache, write_json_atomically

from ._base import Context

__all__ = [
    "MeasurementProtocol",
    "InferenceMeasurement",
    "RaplMeter",
    "measure_inference",
    "time_inference",
    "measurement_key",
    "machine_fingerprint",
    "quantize_int8",
    "timing_input_ids",
]

_NOT_LATENCY_RELEVANT = {"hidden_dropout_prob", "attention_probs_dropout_prob"}


@dataclass(frozen=True)
class MeasurementProtocol:
    """How latency is measured: warm-up runs, then timed repeats (the median is reported)."""

    warmup: int = 5
    repeats: int = 20


@dataclass(frozen=True)
class InferenceMeasurement:
    """Timed runs of one configuration; all per single inference."""

    latencies_ms: tuple[float, ...]
    cpu_seconds: float
    rapl_joules: float | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p90_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InferenceMeasurement:
        return cls(tuple(data["latencies_ms"]), data["cpu_seconds"], data.get("rapl_joules"))


class RaplMeter:
    """Package energy from Linux RAPL (``/sys/class/powercap/intel-rapl:N/energy_uj``).

    ``read()`` returns microjoules summed over packages, or ``None`` when not readable (no
    RAPL, a virtual machine, or no permission). Counter wrap-around is handled by ``joules``.
    """

    def __init__(self, root: str | os.PathLike[str] = "/sys/class/powercap") -> None:
        self.root = Path(root)

    def _domains(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(path for path in self.root.glob("intel-rapl:*") if path.name.count(":") == 1)

    def read(self) -> dict[str, int] | None:
        readings = {}
        for domain in self._domains():
            try:
                readings[domain.name] = int((domain / "energy_uj").read_text())
            except (OSError, ValueError):
                return None
        return readings or None

    def joules(self, start: dict[str, int] | None, end: dict[str, int] | None) -> float | None:
        if start is None or end is None:
            return None
        total = 0
        for name, value in end.items():
            delta = value - start[name]
            if delta < 0:
                try:
                    delta += int((self.root / name / "max_energy_range_uj").read_text())
                except (OSError, ValueError):
                    return None
            total += delta
        return total / 1e6


def machine_fingerprint() -> dict[str, Any]:
    """What identifies the hardware and software a measurement belongs to."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from importlib.metadata import version

        torch_version = version("torch")
    except Exception:  # noqa: BLE001 - only part of a cache key
        torch_version = "unknown"
    return {"cpu": cpu, "cores": os.cpu_count(), "machine": platform.machine(), "torch": torch_version}


def latency_relevant(config: Mapping[str, Any], context: Context) -> dict[str, Any]:
    """The values that can change inference time, completed with the family's defaults."""
    family = context.model_family
    view = family.numeric(context.resolve(config))
    return {name: view.value(name) for name in sorted(family.names) if name not in _NOT_LATENCY_RELEVANT}


def measurement_key(config: Mapping[str, Any], context: Context, protocol: MeasurementProtocol) -> str:
    """The cache key of a measurement: what changes latency (architecture, family, task, dtype, device, machine, protocol)."""
    payload = {
        "architecture": latency_relevant(config, context),
        "family": context.family,
        "task": context.task_kind,
        "dtype": context.dtype,
        "device": context.device,
        "threads": context.threads,
        "protocol": asdict(protocol),
        "machine": machine_fingerprint(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]


class MeasurementCache:
    """One JSON file per measurement in the cache (``Cache.measurement``); atomic writes."""

    def __init__(self, cache_dir: str | None) -> None:
        self.cache = Cache(cache_dir) if cache_dir else None

    def get(self, key: str) -> InferenceMeasurement | None:
        if self.cache is None:
            return None
        path = self.cache.measurement(key)
        try:
            return InferenceMeasurement.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError):
            return None

    def put(self, key: str, measurement: InferenceMeasurement) -> None:
        if self.cache is None:
            return
        path = self.cache.measurement(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(path, measurement.to_dict())


_MEMORY: dict[tuple[str | None, str], InferenceMeasurement] = {}


def measure_inference(
    config: Mapping[str, Any],
    context: Context,
    protocol: MeasurementProtocol = MeasurementProtocol(),
    *,
    timer: Callable[[], float] = time.perf_counter,
    cpu_timer: Callable[[], float] = time.process_time,
    energy_meter: RaplMeter | None = None,
    run: Callable[[Mapping[str, Any], Context], Callable[[], None]] | None = None,
) -> InferenceMeasurement:
    """Measure one configuration with the protocol above, or return the cached result.

    ``run(config, context)`` prepares the model and returns a zero-argument function that runs
    one inference (the default builds the family's model); tests inject a fake.
    """
    key = measurement_key(config, context, protocol)
    cache = MeasurementCache(context.cache_dir)
    memory_key = (context.cache_dir, key)
    cached = _MEMORY.get(memory_key) or cache.get(key)
    if cached is not None:
        _MEMORY[memory_key] = cached
        return cached
    infer = (run or prepare_inference)(config, context)
    measurement = time_inference(infer, context.threads, protocol, timer=timer, cpu_timer=cpu_timer, energy_meter=energy_meter)
    cache.put(key, measurement)
    if context.cache_dir is not None:
        _MEMORY[memory_key] = measurement
    return measurement


def time_inference(
    infer: Callable[[], None],
    threads: int,
    protocol: MeasurementProtocol = MeasurementProtocol(),
    *,
    timer: Callable[[], float] = time.perf_counter,
    cpu_timer: Callable[[], float] = time.process_time,
    energy_meter: RaplMeter | None = None,
) -> InferenceMeasurement:
    """Apply the protocol to any inference function (a student, a teacher, an exported model)."""
    meter = energy_meter or RaplMeter()
    with _threads(threads):
        for _ in range(protocol.warmup):
            infer()
        energy_start, cpu_start = meter.read(), cpu_timer()
        latencies = []
        for _ in range(protocol.repeats):
            started = timer()
            infer()
            latencies.append((timer() - started) * 1000.0)
        cpu_seconds = (cpu_timer() - cpu_start) / protocol.repeats
        joules = meter.joules(energy_start, meter.read())
    return InferenceMeasurement(tuple(latencies), cpu_seconds, None if joules is None else joules / protocol.repeats)


class _threads:
    """Set torch's intra-op threads for a block and restore them after (no-op without torch)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.previous: int | None = None

    def __enter__(self) -> None:
        import sys

        torch = sys.modules.get("torch")
        if torch is not None:
            self.previous = torch.get_num_threads()
            torch.set_num_threads(self.count)

    def __exit__(self, *exc: Any) -> None:
        import sys

        torch = sys.modules.get("torch")
        if torch is not None and self.previous is not None:
            torch.set_num_threads(self.previous)


def quantize_int8(model: Any) -> Any:
    """int8 dynamic quantization of the linear layers (torch's eager-mode API)."""
    import warnings

    import torch

    with warnings.catch_warnings():  # torch 2.10+ announces the move of this API to torchao
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def timing_input_ids(task_kind: str, length: int, vocab_size: int) -> Any:
    """The protocol's one input: a batch of 1 at ``length`` tokens (a pair for clone), fixed
    random ids that are never special tokens. Every timed model (estimated, realised student,
    teacher, ONNX export) reads this same input."""
    import torch

    shape = (1, 2, length) if task_kind in PAIR_KINDS else (1, length)
    return torch.randint(3, max(vocab_size, 4), shape, generator=torch.Generator().manual_seed(0))


def prepare_inference(config: Mapping[str, Any], context: Context) -> Callable[[], None]:
    """Build the model of ``config`` as deployed and return a function running one inference."""
    import torch

    family = context.model_family
    resolved = context.resolve(config)
    torch.manual_seed(0)
    model = family.build(resolved, context.task_kind, context.num_labels).eval()
    if context.dtype == "fp16":
        model = model.half()
    elif context.dtype == "int8":
        model = quantize_int8(model)
    device = torch.device(context.device)
    model = model.to(device)
    view = family.numeric(resolved)
    length, vocab = view.number("max_sequence_length"), view.number("vocab_size")
    input_ids = timing_input_ids(context.task_kind, length, vocab).to(device)
    attention_mask = torch.ones_like(input_ids)
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def infer() -> None:
        with torch.inference_mode():
            model(input_ids=input_ids, attention_mask=attention_mask)
        synchronize()

    return infer
