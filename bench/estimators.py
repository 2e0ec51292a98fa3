"""Benchmark of the cost estimators on the Avatar example space (issue 3's targets).

Prints, measured in one run on this machine:
  * params: mismatches against sum(p.numel()) of the built model (target 0 of 1,000);
  * gflops: worst relative error against torch's FlopCounterMode (target < 1% over 200);
  * predicted latency: held-out MAPE against measured latency of 3 MB configurations
    (target < 10%), with the calibration's own held-out error;
  * a CodeBERT-sized configuration against a 3 MB one: size ratio and latency ratio.

Run: python bench/estimators.py [--params 1000] [--flops 200] [--calibration 60] [--test 40]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table
from torch.utils.flop_counter import FlopCounterMode

from avatar.objectives import Context, LatencyEstimator, get, get_family
from avatar.specs import load

EXAMPLE = Path(__file__).resolve().parents[1] / "specs" / "examples" / "avatar-devign.yaml"
CODEBERT = {
    "vocab_size": 50265, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
    "intermediate_size": 3072, "max_sequence_length": 512, "hidden_act": "gelu", "position_embedding_type": "absolute",
}  # fmt: skip


def grid_configs(spec, n: int, seed: int, accept=lambda config: True) -> list[dict]:
    family = get_family(spec.model.family)
    generator = random.Random(seed)
    configs = []
    while len(configs) < n:
        config = {parameter.name: generator.choice(parameter.values) for parameter in spec.parameters}
        if family.check(config) is None and accept(config):
            configs.append(config)
    return configs


def count_params(family, configs, kind) -> tuple[int, float]:
    mismatches = 0
    started = time.perf_counter()
    for config in configs:
        with torch.device("meta"):
            model = family.build(config, kind)
        built = sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
        mismatches += built != family.params(family.numeric(config), kind)
    return mismatches, time.perf_counter() - started


def worst_flops_error(family, configs, kind) -> tuple[float, float]:
    worst = 0.0
    started = time.perf_counter()
    for config in configs:
        with torch.device("meta"):
            model = family.build(config, kind, attn_implementation="eager").eval()
        length = config["max_sequence_length"]
        input_ids = torch.zeros((1, 2, length) if kind == "clone" else (1, length), dtype=torch.long, device="meta")
        with FlopCounterMode(display=False) as counter:
            model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids))
        counted = counter.get_total_flops()
        worst = max(worst, abs(family.flops(family.numeric(config), kind) - counted) / counted)
    return worst, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=int, default=1000)
    parser.add_argument("--flops", type=int, default=200)
    parser.add_argument("--calibration", type=int, default=60)
    parser.add_argument("--test", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    console = Console()
    spec = load(EXAMPLE)
    family = get_family(spec.model.family)
    console.print(f"torch {torch.__version__} on {os.cpu_count()} CPU cores; latency measured with 1 thread, batch 1")

    table = Table(title="Exact closed forms against the built models")
    for column in ("metric", "task", "configurations", "result", "target", "seconds"):
        table.add_column(column)
    for kind in ("defect", "clone"):
        configs = grid_configs(spec, arguments.params, arguments.seed)
        mismatches, seconds = count_params(family, configs, kind)
        table.add_row("params", kind, str(len(configs)), f"{mismatches} mismatches", "0", f"{seconds:.1f}")
        configs = grid_configs(spec, arguments.flops, arguments.seed + 1)
        worst, seconds = worst_flops_error(family, configs, kind)
        table.add_row("gflops", kind, str(len(configs)), f"worst error {worst:.2e}", "< 1%", f"{seconds:.1f}")
    console.print(table)

    with tempfile.TemporaryDirectory() as cache:
        context = Context.from_spec(spec, cache_dir=cache)
        size = get("size_mb")
        fits = lambda config: size.evaluate(config, context) <= 3  # noqa: E731
        feasible = Context.from_spec(spec, cache_dir=cache, sample_configurations=lambda n, seed: grid_configs(spec, n, seed + 100, fits))
        estimator = LatencyEstimator(mode="predicted", calibration_size=arguments.calibration)
        started = time.perf_counter()
        model = estimator.calibrate(feasible)
        calibration_seconds = time.perf_counter() - started
        measured = LatencyEstimator()
        errors = []
        for config in grid_configs(spec, arguments.test, arguments.seed + 200, fits):
            truth = measured.evaluate(config, context).value
            errors.append(abs(estimator.evaluate(config, feasible) - truth) / truth)
        latency = Table(title="Predicted latency (3 MB configurations of the Avatar space, batch 1, 1 thread)")
        for column in ("calibration points", "calibration held-out MAPE", f"MAPE on {len(errors)} new configurations", "p90 error", "target", "calibration seconds"):
            latency.add_column(column)
        latency.add_row(
            str(model.n_measured),
            f"{model.held_out_mape:.1%}",
            f"{statistics.fmean(errors):.1%}",
            f"{sorted(errors)[int(0.9 * (len(errors) - 1))]:.1%}",
            "< 10%",
            f"{calibration_seconds:.1f}",
        )
        console.print(latency)

        small = min(grid_configs(spec, 200, arguments.seed + 300, fits), key=lambda config: abs(size.evaluate(config, context) - 2.99))
        small = {**small, "position_embedding_type": "absolute"}
        rows = []
        for label, config in (("CodeBERT-sized", CODEBERT), ("3 MB student", small)):
            rows.append((label, size.evaluate(config, context), measured.evaluate(config, context).value, get("gflops").evaluate(config, context)))
        comparison = Table(title="CodeBERT-sized against a 3 MB configuration (measured in this run)")
        for column in ("model", "size MB", "latency ms", "GFLOPs"):
            comparison.add_column(column)
        for label, size_mb, latency_ms, gflops in rows:
            comparison.add_row(label, f"{size_mb:.2f}", f"{latency_ms:.2f}", f"{gflops:.3f}")
        comparison.add_row("ratio", f"{rows[0][1] / rows[1][1]:.0f}x", f"{rows[0][2] / rows[1][2]:.0f}x", f"{rows[0][3] / rows[1][3]:.0f}x")
        console.print(comparison)
        console.print(f"3 MB configuration: {small}")
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
