"""The teacher's learning rate (issue 33): the fixed 2e-5 of before against ``learning_rate: auto``.

For BigCloneBench (clone detection) and Devign (vulnerability prediction), from the copies in
../shared/data, and ``builtin:python-clones-hard``, with the offline all-MiniLM-L6-v2 teacher at
a 128-token window on the first 1,200 examples (the settings of ``bench/long_inputs.py``): the
teacher fine-tuned at 2e-5 (the default until 2026-12-07, the baseline measured in the same
run) and with ``auto`` (the default since; a short trial of 1e-5, 3e-5 and 1e-4 on a quarter of an epoch each chooses the rate):
the rate used, each tried rate's validation ROC AUC, the teacher's validation and test ROC AUC
and primary metric, the epochs it ran, and its wall time (the trial included). ``--fixed R``
(repeatable) adds a row fine-tuned at the rate R.

Run: python bench/teacher_rate.py [--data-root ../shared/data] [--only clone|defect|hard]
[--max-length 128] [--max-examples 1200] [--epochs 3] [--fixed 1e-4]
(needs the `teacher` extra; on 2 idle CPU cores about 10 minutes per set).
"""

from __future__ import annotations

from long_inputs import SETS, bench_spec, fine_tune_each, teacher_arguments, variants_table
from rich.console import Console

from avatar.trainer import primary_metric

BEFORE = 2e-5  # the fixed rate of before, the baseline


def report(kind: str, rows: list[dict], max_length: int, console: Console) -> None:
    extra = {"rate used": lambda row: f"{row['validation'].get('learning_rate', row['rate']):g}", "trial: valid AUC by rate": _trial_text}
    title = f"{kind}: the teacher's learning rate (window {max_length} tokens)"
    console.print(variants_table(title, "learning_rate", "2e-5", rows, primary_metric("clone" if kind == "hard" else kind, 2), extra))


def _trial_text(row: dict) -> str:
    trial = row["validation"].get("learning_rate_trial")
    return ", ".join(f"{rate}: {score:.4f}" for rate, score in trial.items()) if trial else "-"


def main() -> None:
    parser = teacher_arguments(__doc__.splitlines()[0])
    parser.add_argument("--fixed", type=float, action="append", default=[], help="also fine-tune at this fixed rate (repeatable)")
    arguments = parser.parse_args()
    console = Console(width=200)
    variants = {f"{BEFORE:g} (before)": {"learning_rate": BEFORE}, "auto": {"learning_rate": "auto"}, **{f"{rate:g}": {"learning_rate": rate} for rate in arguments.fixed}}
    rates = {f"{BEFORE:g} (before)": BEFORE, "auto": float("nan"), **{f"{rate:g}": rate for rate in arguments.fixed}}
    for kind in [arguments.only] if arguments.only else SETS:
        spec = bench_spec(kind, arguments.data_root, arguments.max_length, arguments.max_examples, arguments.epochs)
        # each row as it finishes, in case the run is stopped halfway
        finished = lambda row, kind=kind: console.print(f"  {kind}, {row['mode']}: {row['validation']}, test {row['test']}, {row['seconds']:.0f} s", highlight=False)  # noqa: E731
        rows = [{**row, "rate": rates[row["mode"]]} for row in fine_tune_each(spec, variants, on_row=finished)]
        report(kind, rows, arguments.max_length, console)


if __name__ == "__main__":
    main()
