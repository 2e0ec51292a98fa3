"""Benchmark of the learned ``accuracy`` estimator (issue 7's targets), measured in one run.

For BigCloneBench (F1), Devign (accuracy), from the copies in ../shared/data, and the built-in
``python-clones-hard`` (``--only hard``, clone pairs of Python functions that share meaning more
than text, in BigCloneBench's space, half its training pairs labelled), and the quick start as
it ships (``--only quickstart``: its data, space under 1 MB, teacher and students' recipe):
fine-tune the offline all-MiniLM-L6-v2 teacher on the labelled split, probe ``--probes`` (>= 40)
feasible configurations of the Avatar space under 3 MB (uniform sample of the exact feasible
space), then compare, on the same probes:

* Avatar's surrogate (``forest``: extra trees on one-hot / log-scaled encodings; and ``gp``)
* the reference approach of the research: Bayesian ridge on ordinal codes,

each fitted on 20 probes and scored on the other probes (held out), over ``--splits`` random
20 / rest splits (mean and spread printed side by side), plus the surrogate's 5-fold
cross-validation on all probes. Targets: held-out Spearman >= 0.6 and better than the
reference on both datasets.

With ``--multi-fidelity``, the same configurations are also probed short (half the epochs on
half the examples), and multi-fidelity is compared with single-fidelity probing at equal cost
(counted in measured probe seconds, and nominally in epochs x examples): a surrogate fitted on
10 long probes of random configurations, against one fitted on short probes of as many
configurations as that budget pays for plus long probes of the best quarter of them (as
``promote: 0.25`` does), both scored by held-out Spearman against the other configurations'
long probes.

With ``--students N``, N held-out configurations are also fully distilled (real students, by the
spec's recipe, cheapest first, each stored as it finishes), and every estimator is scored
against their realised test and validation ROC AUC, with its cost: the probes' forest, the
weight-sharing super-student (``--supernet-epochs``; its sub-network scores, and the forest on
them), the zero-cost proxy, and the mean rank of probes and super-student
(``against_students``). ``--stored-students`` scores against those already distilled.

Probes are stored in ``--out/<task>/probes.sqlite`` as they finish, so an interrupted benchmark
continues where it stopped. Run: python bench/accuracy.py [--data-root ../shared/data]
[--only clone|defect] (about 20 to 40 minutes per task on 2 CPU cores; `teacher` extra).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from _realised import realised_student, stored_path
from rich.console import Console
from rich.table import Table
from scipy.stats import spearmanr

from avatar import objectives
from avatar.objectives import AccuracyEstimator, Surrogate, cross_validate
from avatar.solver import LearnedMetric, RunStore, SerialExecutor, Space
from avatar.specs import loads
from avatar.trainer import DistillationProber, prepare_distillation

EXAMPLES = Path(__file__).resolve().parents[1] / "specs" / "examples"
TASKS = {
    "clone": ("avatar-bigclonebench.yaml", "bigclonebench-codexglue-test4000"),
    "defect": ("avatar-devign.yaml", "devign-codexglue-test"),
    "hard": ("avatar-bigclonebench.yaml", None),  # builtin:python-clones-hard, in BigCloneBench's space
    "quickstart": ("quickstart.yaml", None),  # the quick start as it ships: its data, space, teacher and students' recipe
}
HARD = {"kind": "clone", "data": "builtin:python-clones-hard", "split": {"valid": 0.1, "test": 0.2, "labeled": 0.5, "seed": 42}}
TEACHER = "sentence-transformers/all-MiniLM-L6-v2"
KINDS = ("forest", "gp", "ridge-ordinal")


def benchmark_spec(kind: str, data_root: Path, epochs: int, examples: int, score: str = "auc", student_epochs: int = 10, lengths: tuple[int, int] = (128, 256)):
    example, folder = TASKS[kind]
    data = yaml.safe_load((EXAMPLES / example).read_text())
    if kind == "quickstart":  # its own space and recipe; accuracy against size, and the probes asked for
        data["objectives"] = {"accuracy": "maximize", "size_mb": "minimize"}
        data["estimators"] = {"accuracy": {"options": {"method": "probes", "initial": 40, "probe_epochs": epochs, "probe_examples": examples, "probe_score": score}}}
        data["train"] = {**data["train"], "epochs": student_epochs, **({"patience": 2} if student_epochs < 10 else {})}
        return loads(yaml.safe_dump(data), filename=str(EXAMPLES / example))
    if folder is None:
        data["task"] = dict(HARD)
    else:
        data["task"]["data"] = str((data_root / folder).resolve())
    # Probes on 2 CPU cores: sequences of 128 to 256 tokens (the paper's space goes to 512).
    data["space"]["max_sequence_length"] = {"range": list(lengths), "step": 64}
    data["objectives"] = {"accuracy": "maximize", "size_mb": "minimize"}
    data["estimators"] = {"accuracy": {"options": {"method": "probes", "initial": 40, "probe_epochs": epochs, "probe_examples": examples, "probe_score": score}}}
    data["train"] = {
        "teacher": {"model": TEACHER, "epochs": 3, "max_length": 128, "batch_size": 16},
        "epochs": student_epochs,
        "pretrain_epochs": 0,
        **({"patience": 2} if student_epochs < 10 else {}),
    }
    return loads(yaml.safe_dump(data), filename=str(EXAMPLES / example))


def held_out(parameters, configs, values, kind: str, train_size: int, splits: int) -> tuple[list[float], list[float]]:
    """Spearman and MAE on the probes left out, for ``splits`` random train sets of ``train_size``."""
    rhos, maes = [], []
    values = np.asarray(values)
    for split in range(splits):
        order = np.random.default_rng(split).permutation(len(values))
        train, test = order[:train_size], order[train_size:]
        predicted = Surrogate(parameters, kind, seed=split).fit([configs[i] for i in train], values[train]).predict([configs[i] for i in test])[0]
        rhos.append(float(spearmanr(predicted, values[test]).statistic) if np.ptp(predicted) > 0 and np.ptp(values[test]) > 0 else 0.0)
        maes.append(float(np.mean(np.abs(predicted - values[test]))))
    return rhos, maes


def real_students(spec, distillation, space, count: int, out: Path, console: Console, train: bool = True) -> list[dict]:
    """``count`` held-out feasible configurations fully distilled with the students' own recipe
    (``train_selected``: the spec's epochs, patience and methods), each stored in ``out`` as it
    finishes, so an interrupted benchmark keeps them. Drawn with another seed than the probes."""
    students = []
    sample = space.sample(count, seed=spec.search.seed + 1000)
    # cheapest first (by the FLOPs estimate), so that an interrupted benchmark has as many as it could
    context = objectives.Context.from_spec(spec)
    flops = objectives.get("gflops")
    for index, config in enumerate(sorted(sample, key=lambda config: float(flops.evaluate(context.resolve(config), context)))):
        stored = stored_path(config, out).exists()
        if not stored and not train:  # --stored-students: only those already distilled
            continue
        record = realised_student(spec, distillation, config, out)
        if not stored:
            console.print(f"  real student {index + 1}/{count}: valid AUC {record['valid']['auc']:.4f}, test AUC {record['test']['auc']:.4f}, {record['seconds']:.0f} s", highlight=False)
        students.append(record)
    return students


def against_students(spec, distillation, space, students: list[dict], probes: list, arguments: argparse.Namespace, out: Path, console: Console) -> dict:
    """Each estimator's predictions for the real students' configurations, against their realised
    validation and test AUC (Spearman, MAE), with what each estimator cost in seconds:

    (a) the forest on the first ``initial`` probes (a run's initial design, as today), and on as
        many probes as the super-student's time buys (equal compute);
    (b) the super-student: each configuration's sub-network score, and (as a run uses it) the
        forest on the sub-network scores of its initial design;
    (c) the zero-cost proxy (non-embedding parameters);
    (d) the combination: the mean of the ranks of (a) and (b);
    (e) ``method: supernet+probes``: the sub-network scores of the initial design, calibrated
        by real probes (as (a)'s) of a spread of them, the training parameters included;
    (f) with ``--finetune-steps N``: (b) with each sub-network trained N steps first
        (``supernet_finetune_steps``)."""
    configs = [student["config"] for student in students]
    truth = {split: np.array([student[split]["auc"] for student in students]) for split in ("test", "valid")}
    rows: dict[str, dict] = {}

    def row(name: str, predicted, seconds: float) -> None:
        predicted = np.asarray(predicted, dtype=float)
        rows[name] = {
            "seconds": seconds,
            "test": _rho(predicted, truth["test"]),
            "valid": _rho(predicted, truth["valid"]),
            "mae": float(np.mean(np.abs(predicted - truth["test"]))),
            "picks": _pick_rate(predicted, truth["test"]),
            "predicted": predicted.tolist(),
        }

    ordered = sorted((probe for probe in probes if probe.ok), key=lambda probe: (probe.stage, probe.key))
    initial = AccuracyEstimator(method="probes").initial
    forest = Surrogate(space.parameters, "forest", seed=0).fit([probe.config for probe in ordered[:initial]], [probe.value for probe in ordered[:initial]])
    row(f"(a) probes + forest ({len(ordered[:initial])} probes, as today)", forest.predict(configs)[0], sum(probe.seconds for probe in ordered[:initial]))
    context = objectives.Context.from_spec(spec)
    proxy = objectives.AccuracyProxyEstimator()
    row("(c) zero-cost proxy (non-embedding parameters)", [float(proxy.evaluate(context.resolve(config), context)) for config in configs], 0.0)
    if arguments.supernet_epochs:
        estimator = AccuracyEstimator(method="supernet", probe_score=arguments.score, supernet_epochs=arguments.supernet_epochs)
        prober = DistillationProber(distillation, progress=lambda line: console.print(line, highlight=False))
        started = time.perf_counter()
        prober.prepare("accuracy", estimator, space)
        trained = _training_seconds(out / f"supernet-{arguments.supernet_epochs}-training.json", time.perf_counter() - started)
        history = prober.supernets["accuracy"].history
        store = RunStore(out / f"supernet-{arguments.supernet_epochs}.sqlite")
        direct, per_score, scored = _subnetwork_rows(estimator, f"(b) super-student ({arguments.supernet_epochs} epochs)", prober, space, configs, context, store, trained=trained, row=row)
        if arguments.finetune_steps:  # (f)
            rows.update(_finetuned_rows(space, prober, configs, context, arguments, out, trained=trained, row=row))
        if arguments.calibrate:  # (e)
            rows.update(_calibrated_rows(space, store, prober, configs, context, arguments, cost=trained + scored, row=row))
        store.close()
        # equal compute: as many probes as the super-student's training and scoring took
        spent, count = 0.0, 0
        for probe in ordered:
            if spent + probe.seconds > trained + per_score * len(configs) or count == len(ordered):
                break
            spent, count = spent + probe.seconds, count + 1
        if count >= 4:
            forest = Surrogate(space.parameters, "forest", seed=0).fit([probe.config for probe in ordered[:count]], [probe.value for probe in ordered[:count]])
            row(f"(a) probes + forest at the super-student's cost ({count} probes)", forest.predict(configs)[0], spent)
        first = next(name for name in rows if name.startswith("(a)"))
        ranks = (np.argsort(np.argsort(rows[first]["predicted"])) + np.argsort(np.argsort(direct))) / 2
        row("(d) combination: mean rank of (a) and (b)", ranks, rows[first]["seconds"] + trained + per_score * len(configs))
        rows["supernet history"] = {"history": history, "train seconds": trained, "seconds per score": per_score}
    median_probe = float(np.median([probe.seconds for probe in ordered])) if ordered else float("nan")
    return {"rows": rows, "students": len(students), "median probe seconds": median_probe, "truth": {split: values.tolist() for split, values in truth.items()}}


def _subnetwork_rows(estimator, name: str, prober, space, configs, context, store, *, trained: float, row) -> tuple[list[float], float, float]:
    """A super-student estimator's two rows: each configuration's sub-network score, and (as a
    run uses them) the forest on the scores of an initial design, stored in ``store``; returns
    the scores, the seconds per score and the initial design's seconds."""
    started = time.perf_counter()
    direct = [prober.task("accuracy", estimator, config).run()["accuracy"] for config in configs]
    per_score = (time.perf_counter() - started) / len(configs)
    row(f"{name}, sub-network scores", direct, trained + per_score * len(configs))
    metric = LearnedMetric("accuracy", estimator, space, store, prober)
    metric.probe(metric.initial_design(), 0, SerialExecutor())
    metric.fit(0)
    scored = sum(probe.seconds for probe in metric.probes())  # as measured, also when a rerun reads them
    row(f"{name} + forest on {estimator.initial} sub-network scores", [outcome.value for outcome in estimator.evaluate_many(configs, context)], trained + scored)
    return direct, per_score, scored


def _finetuned_rows(space, prober, configs, context, arguments: argparse.Namespace, out: Path, *, trained: float, row) -> dict:
    """(f) the super-student's sub-networks, each scored after ``--finetune-steps`` steps of its
    own training (its learning rate, batch size and dropout): directly, and as a run uses them
    (the forest on the scores of an initial design)."""
    steps = arguments.finetune_steps
    tuned = AccuracyEstimator(method="supernet", probe_score=arguments.score, supernet_epochs=arguments.supernet_epochs, supernet_finetune_steps=steps)
    store = RunStore(out / f"supernet-{arguments.supernet_epochs}-finetune-{steps}.sqlite")
    _, per_score, _ = _subnetwork_rows(tuned, f"(f) super-student after {steps} steps of fine-tuning", prober, space, configs, context, store, trained=trained, row=row)
    store.close()
    return {"fine-tuned seconds per score": {"value": per_score}}


def _calibrated_rows(space, store, prober, configs, context, arguments: argparse.Namespace, *, cost: float, row) -> dict:
    """(e) the super-student's sub-network scores of the initial design (in ``store``),
    calibrated by real probes (as (a)'s) of a spread of them: ``method: supernet+probes``."""
    calibrated = AccuracyEstimator(method="supernet+probes", probe_score=arguments.score, supernet_epochs=arguments.supernet_epochs, probe_epochs=arguments.epochs, probe_examples=arguments.examples)
    metric = LearnedMetric("accuracy", calibrated, space, store, prober)
    metric.probe(metric.initial_design(), 0, SerialExecutor())
    metric.fit(0)
    real = [probe for probe in metric.probes() if metric.level(probe) == 1]
    row(
        f"(e) super-student calibrated by {len(real)} real probes (supernet+probes)",
        [outcome.value for outcome in calibrated.evaluate_many(configs, context)],
        cost + sum(probe.seconds for probe in real),
    )
    return {"calibration": {"effects": calibrated.surrogate_.effects(), "cross-validation": calibrated.validation_.to_dict() if calibrated.validation_ else None}}


def run(kind: str, arguments: argparse.Namespace, console: Console) -> dict:
    spec = benchmark_spec(kind, arguments.data_root, arguments.epochs, arguments.examples, arguments.score, arguments.student_epochs, tuple(arguments.lengths))
    out = arguments.out / kind
    out.mkdir(parents=True, exist_ok=True)
    timings = {}
    started = time.perf_counter()
    distillation = prepare_distillation(spec, console=console)
    timings.update(distillation.seconds)
    space = Space.from_spec(spec)
    estimator: AccuracyEstimator = space.estimators["accuracy"]
    students = []
    if arguments.students:
        started = time.perf_counter()
        students = real_students(spec, distillation, space, arguments.students, out / "students", console, train=not arguments.stored_students)
        timings["real students"] = time.perf_counter() - started
    store = RunStore(out / "probes.sqlite")
    metric = LearnedMetric("accuracy", estimator, space, store, DistillationProber(distillation))
    started = time.perf_counter()
    configs = space.sample(arguments.probes, seed=spec.search.seed)
    metric.probe(configs, 0, SerialExecutor())
    timings["probes"] = time.perf_counter() - started
    measured = [probe for probe in metric.probes() if probe.ok]
    parameters, probe_configs, values = space.parameters, [probe.config for probe in measured], [probe.value for probe in measured]
    results = {"task": kind, "probes": len(measured), "failed": arguments.probes - len(measured), "values": (min(values), max(values), float(np.std(values))), "timings": timings}
    if students:
        results["against students"] = against_students(spec, distillation, space, students, metric.probes(), arguments, out, console)
        (out / "against-students.json").write_text(json.dumps(results["against students"], indent=2, default=str))
    if arguments.multi_fidelity:
        short = AccuracyEstimator(method="probes", initial=arguments.probes, probe_epochs=max(1, arguments.epochs // 2), probe_examples=arguments.examples // 2, probe_score=arguments.score)
        short_metric = LearnedMetric("accuracy", short, space, store, DistillationProber(distillation))
        started = time.perf_counter()
        short_metric.probe(configs, 0, SerialExecutor())
        timings["short probes"] = time.perf_counter() - started
        results["fidelity"] = compare_fidelities(parameters, metric.probes(), short_metric.probes(), arguments.splits)
    train_size = min(arguments.train_size, len(values) - 4)  # leave at least 4 probes to score on
    for surrogate in KINDS:
        rhos, maes = held_out(parameters, probe_configs, values, surrogate, train_size, arguments.splits)
        validation = cross_validate(parameters, probe_configs, values, surrogate, folds=5, seed=0)
        results[surrogate] = {"spearman": rhos, "mae": maes, "cv": validation.to_dict()}
    store.close()
    return results


def compare_fidelities(parameters, long_probes, short_probes, splits: int, held_out_share: float = 0.4, long_budget: int = 10, promote: float = 0.25) -> dict:
    """Single- against multi-fidelity probing at equal cost, scored on held-out configurations'
    long probes (a tabular benchmark: every configuration was probed both ways).

    Cost is counted twice: in measured probe seconds, and nominally (epochs x examples), since
    the two kinds of probes may have run under different load."""
    long = {probe.key: probe for probe in long_probes if probe.ok}
    short = {probe.key: probe for probe in short_probes if probe.ok}
    keys = sorted(set(long) & set(short))
    seconds = {"long": float(np.median([long[key].seconds for key in keys])), "short": float(np.median([short[key].seconds for key in keys]))}
    size = {name: probes[keys[0]].fidelity["epochs"] * probes[keys[0]].fidelity["examples"] for name, probes in (("long", long), ("short", short))}
    held_out = int(held_out_share * len(keys))
    single = []
    multi: dict[str, list[float]] = {"measured": [], "nominal": []}
    screened = {}
    for cost, ratio in (("measured", seconds["short"] / seconds["long"]), ("nominal", size["short"] / size["long"])):
        # as many short probes as long_budget long probes pay for, the best share promoted
        affordable = [n for n in range(2, len(keys) - held_out + 1) if n * ratio + math.ceil(promote * n) <= long_budget]
        screened[cost] = max(affordable, default=2)
    for split in range(splits):
        order = list(np.random.default_rng(100 + split).permutation(keys))
        held, pool = order[:held_out], order[held_out:]
        truth = [long[key].value for key in held]
        chosen = pool[:long_budget]
        surrogate = Surrogate(parameters, "forest", seed=split).fit([long[key].config for key in chosen], [long[key].value for key in chosen])
        single.append(_rho(surrogate.predict([long[key].config for key in held])[0], truth))
        for cost, count in screened.items():
            screened_keys = pool[:count]
            promoted = sorted(screened_keys, key=lambda key: -short[key].value)[: math.ceil(promote * count)]
            estimator = AccuracyEstimator(method="probes", promote=promote, probe_epochs=1, promote_epochs=2)
            configs = [short[key].config for key in screened_keys] + [long[key].config for key in promoted]
            values = [short[key].value for key in screened_keys] + [long[key].value for key in promoted]
            estimator.fit(parameters, configs, values, seed=split, levels=[0] * len(screened_keys) + [1] * len(promoted))
            predicted = [outcome.value for outcome in estimator.evaluate_many([long[key].config for key in held], None)]
            multi[cost].append(_rho(np.asarray(predicted), truth))
    return {
        "configurations": len(keys),
        "seconds": seconds,
        "short_long_spearman": _rho(np.array([short[key].value for key in keys]), [long[key].value for key in keys]),
        "single": {"long probes": long_budget, "spearman": single},
        "multi": {cost: {"short probes": count, "promoted": math.ceil(promote * count), "spearman": multi[cost]} for cost, count in screened.items()},
    }


def _training_seconds(record: Path, seconds: float) -> float:
    """The super-student's training time: measured now, or as recorded by the run that trained
    it (a rerun reads it from the cache in a second)."""
    recorded = float(json.loads(record.read_text())["seconds"]) if record.exists() else 0.0
    if seconds < 0.5 * recorded:
        return recorded
    record.write_text(json.dumps({"seconds": seconds}))
    return seconds


def _pick_rate(predicted: np.ndarray, truth: np.ndarray, size: int = 5, draws: int = 2000) -> float:
    """How often the estimator's pick beats a random one: over random sets of ``size`` real
    students, the share where the one it predicts best realised more than the set's median
    (ties count half). 0.5 is chance; a search that chooses by the estimator gains where above."""
    if len(truth) < size:
        return float("nan")
    draw, wins = np.random.default_rng(0), 0.0
    for _ in range(draws):
        chosen = draw.choice(len(truth), size, replace=False)
        realised, median = truth[chosen[int(np.argmax(predicted[chosen]))]], float(np.median(truth[chosen]))
        wins += 1.0 if realised > median else 0.5 if realised == median else 0.0
    return wins / draws


def _rho(predicted: np.ndarray, truth) -> float:
    return float(spearmanr(predicted, truth).statistic) if np.ptp(predicted) > 0 and np.ptp(truth) > 0 else 0.0


def _summary(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--only", choices=sorted(TASKS))
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument("--train-size", type=int, default=20)
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--examples", type=int, default=192)
    parser.add_argument("--score", choices=["auc", "primary"], default="auc", help="probe score: ROC AUC (default) or the task's F1/accuracy")
    parser.add_argument("--out", type=Path, default=Path("bench-out/accuracy"))
    parser.add_argument("--students", type=int, default=0, help="also fully distil this many held-out configurations (real students) and score the estimators against them")
    parser.add_argument("--student-epochs", type=int, default=10, help="the real students' epochs (train.epochs; below 10, patience 2)")
    parser.add_argument("--lengths", type=int, nargs=2, default=[128, 256], help="the space's max_sequence_length range (step 64)")
    parser.add_argument("--stored-students", action="store_true", help="score against the real students already distilled (by another run of this benchmark) instead of distilling the missing ones")
    parser.add_argument("--supernet-epochs", type=int, default=2, help="with --students: also the super-student estimator, distilled for this many epochs (0: not)")
    parser.add_argument("--finetune-steps", type=int, default=0, help="with --students and --supernet-epochs: also (f), each sub-network scored after this many steps of its own training")
    parser.add_argument("--calibrate", action=argparse.BooleanOptionalAction, default=True, help="with --students and --supernet-epochs: also (e), method supernet+probes (16 more real probes)")
    parser.add_argument("--multi-fidelity", action="store_true", help="also probe short and compare multi- with single-fidelity probing at equal cost")
    arguments = parser.parse_args(argv)
    console = Console()
    rows = []
    for kind in [arguments.only] if arguments.only else sorted(TASKS):
        results = run(kind, arguments, console)
        rows.append(results)
        low, high, spread = results["values"]
        console.print(
            f"{kind}: {results['probes']} probes ({results['failed']} failed), measured range {low:.4f} to {high:.4f} (std {spread:.4f}); seconds: "
            + ", ".join(f"{name} {value:.0f}" for name, value in results["timings"].items())
        )
    table = Table(title=f"Held-out quality: fitted on {arguments.train_size} probes, scored on the rest ({arguments.splits} random splits; mean ± std)")
    for column in ("task", "surrogate", "held-out Spearman", "held-out MAE", "5-fold CV Spearman (all probes)", "Spearman vs reference"):
        table.add_column(column, justify="right")
    failures = []
    for results in rows:
        reference = np.mean(results["ridge-ordinal"]["spearman"])
        for surrogate in KINDS:
            rho = np.mean(results[surrogate]["spearman"])
            table.add_row(
                results["task"],
                surrogate + (" (reference)" if surrogate == "ridge-ordinal" else ""),
                _summary(results[surrogate]["spearman"]),
                _summary(results[surrogate]["mae"]),
                f"{results[surrogate]['cv']['spearman']:.3f}",
                "" if surrogate == "ridge-ordinal" else f"{rho - reference:+.3f}",
            )
        forest = np.mean(results["forest"]["spearman"])
        if forest < 0.6 or forest <= reference:
            failures.append(f"{results['task']}: forest held-out Spearman {forest:.3f} (target >= 0.6 and > reference {reference:.3f})")
    console.print(table)
    for results in rows:
        if "fidelity" in results:
            comparison = results["fidelity"]
            seconds = comparison["seconds"]
            console.print(
                f"{results['task']}: multi-fidelity at equal cost, {comparison['configurations']} configurations probed both ways (median probe {seconds['long']:.1f} s long, "
                f"{seconds['short']:.1f} s short; Spearman of short against long probes {comparison['short_long_spearman']:.3f}). Held-out Spearman against long probes:"
            )
            console.print(f"  single fidelity, {comparison['single']['long probes']} long probes: {_summary(comparison['single']['spearman'])}")
            for cost, multi in comparison["multi"].items():
                console.print(f"  multi-fidelity at {cost} cost, {multi['short probes']} short + {multi['promoted']} promoted: {_summary(multi['spearman'])}")
    for results in rows:
        if "against students" in results:
            compared = results["against students"]
            table = Table(
                title=f"{results['task']}: estimators against {compared['students']} real students (realised test and validation ROC AUC); a probe's median {compared['median probe seconds']:.0f} s"
            )
            for column in ("estimator", "cost (s)", "cost (probes)", "Spearman, test AUC", "Spearman, validation AUC", "MAE, test AUC", "its pick above the median of 5"):
                table.add_column(column, justify="right")
            for name, item in compared["rows"].items():
                if "test" in item:
                    probes_worth = item["seconds"] / compared["median probe seconds"] if compared["median probe seconds"] else float("nan")
                    table.add_row(
                        name,
                        f"{item['seconds']:.0f}",
                        f"{probes_worth:.1f}",
                        f"{item['test']:.3f}",
                        f"{item['valid']:.3f}",
                        f"{item['mae']:.4f}" if not name.startswith(("(c)", "(d)")) else "",
                        f"{item['picks']:.0%}",
                    )
            console.print(table)
            history = compared["rows"].get("supernet history")
            if history:
                console.print(
                    f"super-student: trained in {history['train seconds']:.0f} s, {history['seconds per score']:.1f} s per sub-network score; per epoch: "
                    + "; ".join(f"largest {record['valid_largest'].get('auc', float('nan')):.3f}, smallest {record['valid_smallest'].get('auc', float('nan')):.3f}" for record in history["history"]),
                    highlight=False,
                )
            calibration = compared["rows"].get("calibration")
            if calibration:
                validation = calibration["cross-validation"] or {}
                console.print(
                    "supernet+probes ridge (weights of columns scaled to [0, 1]): "
                    + ", ".join(f"{name} {weight:+.3f}" for name, weight in calibration["effects"].items())
                    + f"; cross-validated over its real probes: Spearman {validation.get('spearman')}, MAE {validation.get('mae')}",
                    highlight=False,
                )
    for failure in failures:
        console.print(f"[red]target not met[/red] {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
