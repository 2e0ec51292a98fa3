"""A corpus of malformed specs, each with the exact line, column and field it must report.

Each case edits a small valid spec (``BASE``): it replaces some of its lines (by number) or
appends lines after line 11. The expected column is where the text ``at`` first occurs on the
reported line (1-based, as editors show it); ``at=None`` checks the line only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from avatar.specs import SpecError, load, loads

METRICS = {"params", "size_mb", "gflops", "latency_ms"}

BASE = """\
name: case
task: {kind: defect, data: d}
space:
  hidden_size: {range: [16, 256], step: 16}
  heads: {range: [1, 8]}
  tok: {choices: [bpe, word]}
  drop: {range: [0.1, 0.3], step: 0.1}
constraints:
  divides: hidden_size % heads == 0
objectives:
  size_mb: minimize
"""


@dataclass
class Case:
    id: str
    line: int | None
    at: str | None
    path: str
    message: str
    replace: dict[int, str] = field(default_factory=dict)
    append: str = ""
    text: str | None = None

    def spec_text(self) -> str:
        if self.text is not None:
            return self.text
        lines = BASE.splitlines()
        for number, replacement in self.replace.items():
            lines[number - 1] = replacement
        return "\n".join(lines) + "\n" + self.append


CASES = [
    # -- YAML itself ------------------------------------------------------------------
    Case("unclosed-bracket", 4, None, "", "invalid YAML", replace={4: "  hidden_size: {range: [16, 256}"}),
    Case("tab-indentation", 5, None, "", "invalid YAML", replace={5: "\theads: {range: [1, 8]}"}),
    Case("duplicate-key", 5, "hidden_size", "space", "duplicate key 'hidden_size'", replace={5: "  hidden_size: {range: [1, 8]}"}),
    Case("top-level-list", 1, "- a", "", "must be a mapping", text="- a\n- b\n"),
    Case("empty-file", 1, None, "", "got an empty file", text="\n"),
    Case("two-documents", 13, "name", "", "more than one YAML document", append="---\nname: other\n"),
    Case("python-tag", 1, "!!python", "name", "YAML tag '!!python/object' is not supported", replace={1: "name: !!python/object x"}),
    Case("merge-key", 4, "<<", "space.hidden_size", "merge keys", replace={4: "  hidden_size: {<<: {range: [1, 2]}}"}),
    Case("infinite-number", 5, "1e999", "space.heads.range[1]", "too large", replace={5: "  heads: {range: [1, 1e999]}"}),
    # -- schema: fields and types -----------------------------------------------------
    Case("unknown-top-level-field", 12, "serch", "serch", "unknown field 'serch' (did you mean 'search'?)", append="serch: {seed: 1}\n"),
    Case("missing-task", 1, "name", "task", "missing required field 'task'", replace={2: "# no task"}),
    Case("wrong-type-population", 12, "twenty", "search.population", "expected a whole number, got the string 'twenty'", append="search: {population: twenty}\n"),
    Case("parameter-not-a-mapping", 5, "5", "space.heads", "expected a mapping, got the number 5", replace={5: "  heads: 5"}),
    Case("range-three-items", 5, "[1, 8", "space.heads.range", "expected [lo, hi] (two numbers), got a list of 3 items", replace={5: "  heads: {range: [1, 8, 9]}"}),
    Case("range-item-string", 5, "eight", "space.heads.range[1]", "expected a number, got the string 'eight'", replace={5: "  heads: {range: [1, eight]}"}),
    Case("negative-step", 4, "-16", "space.hidden_size.step", "expected a value > 0, got -16", replace={4: "  hidden_size: {range: [16, 256], step: -16}"}),
    Case("misspelt-parameter-field", 4, "stepp", "space.hidden_size.stepp", "unknown field 'stepp' (did you mean 'step'?)", replace={4: "  hidden_size: {range: [16, 256], stepp: 16}"}),
    Case("choices-and-range", 6, "range", "space.tok.range", "unknown field 'range'", replace={6: "  tok: {choices: [bpe, word], range: [1, 2]}"}),
    Case("invalid-parameter-name", 6, "tok-en", "space.tok-en", "'tok-en' is not a valid name", replace={6: "  tok-en: {choices: [bpe, word]}"}),
    Case("task-kind-misspelt", 2, "defct", "task.kind", "expected one of defect, clone, classify, pair; got the string 'defct' (did you mean 'defect'?)", replace={2: "task: {kind: defct, data: d}"}),
    Case("objective-direction", 11, "minimise", "objectives.size_mb", "expected one of minimize, maximize; got the string 'minimise' (did you mean 'minimize'?)", replace={11: "  size_mb: minimise"}),
    Case("select-misspelt", 12, "kne", "train.select", "expected knee, all, a whole number of points, or best:METRIC, got the string 'kne'", append="train: {select: kne}\n"),
    Case("bad-scheduler", 12, "localhost", "execution.scheduler", "expected a scheduler address such as tcp://host:8786", append="execution: {scheduler: localhost}\n"),
    Case("bad-estimator-class", 12, "not a", "estimators.latency_ms.class", "expected an import reference module:Class", append="estimators: {latency_ms: {class: not a reference}}\n"),
    # -- domains ----------------------------------------------------------------------
    Case("range-reversed", 4, "[256", "space.hidden_size.range", "lo 256 is greater than hi 16 (did you mean [16, 256]?)", replace={4: "  hidden_size: {range: [256, 16], step: 16}"}),
    Case("step-wider-than-range", 4, "500", "space.hidden_size.step", "the step 500 is larger than the range width 240", replace={4: "  hidden_size: {range: [16, 256], step: 500}"}),
    Case("float-range-without-step", 7, "[0.1", "space.drop.range", "has decimal bounds but no step", replace={7: "  drop: {range: [0.1, 0.3]}"}),
    Case("log-grid-nonpositive", 7, "[0,", "space.drop.range", "a log grid needs a positive lo", replace={7: "  drop: {range: [0, 0.3], log: true}"}),
    Case("log-and-step", 7, "0.1}", "space.drop.step", "use either step or log: true, not both", replace={7: "  drop: {range: [0.1, 0.3], log: true, step: 0.1}"}),
    Case("empty-choices", 6, "[]", "space.tok.choices", "choices is empty", replace={6: "  tok: {choices: []}"}),
    Case("duplicate-choice", 6, "[bpe", "space.tok.choices", "the choice 'bpe' is listed twice", replace={6: "  tok: {choices: [bpe, word, bpe]}"}),
    Case("mixed-choices", 6, "[bpe", "space.tok.choices", "choices mix strings and numbers", replace={6: "  tok: {choices: [bpe, 3]}"}),
    Case("too-many-values", 5, "[1,", "space.heads.range", "at most 1,000,000 are allowed", replace={5: "  heads: {range: [1, 100000000]}"}),
    # -- names ------------------------------------------------------------------------
    Case("duplicate-name-across-sections", 13, "heads", "constants.heads", "the name 'heads' is already defined in space (line 5)", append="constants:\n  heads: 4\n"),
    Case("reserved-name", 6, "max", "space.max", "'max' is a reserved word", replace={6: "  max: {choices: [bpe, word]}"}),
    Case("keyword-name", 6, "lambda", "space.lambda", "'lambda' is a reserved word", replace={6: "  lambda: {choices: [bpe, word]}"}),
    Case("parameter-named-like-metric", 6, "size_mb", "space.size_mb", "the name 'size_mb' is a metric", replace={6: "  size_mb: {choices: [bpe, word]}"}),
    Case("unknown-name-with-hint", 9, "hiden", "constraints.divides", "unknown name 'hiden_size' (did you mean 'hidden_size'?)", replace={9: "  divides: hiden_size % heads == 0"}),
    Case("unknown-metric-objective", 11, "size_mbb", "objectives.size_mbb", "unknown metric 'size_mbb' (did you mean 'size_mb'?)", replace={11: "  size_mbb: minimize"}),
    Case("objective-on-string", 11, "tok", "objectives.tok", "'tok' is a string; only numbers can be optimised", replace={11: "  tok: minimize"}),
    Case("derived-cycle", 13, "a:", "derived.a", "derived names form a cycle: a -> b -> a", append="derived:\n  a: b + 1\n  b: a * 2\n"),
    Case("derived-self-reference", 13, "a:", "derived.a", "derived names form a cycle: a -> a", append="derived:\n  a: a + 1\n"),
    Case("estimator-not-registered", 12, "accuracyy", "estimators.accuracyy", "no estimator is registered for the metric 'accuracyy'", append="estimators: {accuracyy: {options: {}}}\n"),
    Case("select-best-not-objective", 12, "'best", "train.select", "'latency_ms' is not an objective of this spec", append="train: {select: 'best:latency_ms'}\n"),
    # -- expression syntax ------------------------------------------------------------
    Case("syntax-error", 9, None, "constraints.divides", "invalid syntax", replace={9: "  divides: hidden_size <="}),
    Case("attribute-access", 9, "heads.real", "constraints.divides", "attribute access 'heads.real' is not allowed", replace={9: "  divides: heads.real > 1"}),
    Case("subscript", 9, "heads[0]", "constraints.divides", "subscript 'heads[0]' is not allowed", replace={9: "  divides: heads[0] > 1"}),
    Case("other-call", 9, "len", "constraints.divides", "the call 'len(heads)' is not allowed; the only functions are min, max and abs", replace={9: "  divides: len(heads) > 1"}),
    Case("import-call", 9, "__import__", "constraints.divides", "the call '__import__('os').system('ls')' is not allowed", replace={9: "  divides: __import__('os').system('ls')"}),
    Case("lambda", 9, "lambda", "constraints.divides", "a lambda 'lambda: 1' is not allowed", replace={9: '  divides: "(lambda: 1) == 1"'}),
    Case("comprehension", 9, "[x", "constraints.divides", "got a comprehension '[x for x in [1]]'", replace={9: "  divides: 1 in [x for x in [1]]"}),
    Case("f-string", 9, "f'", "constraints.divides", "an f-string", replace={9: "  divides: f'{heads}' == 'x'"}),
    Case("dunder-name", 9, "__class__", "constraints.divides", "the name '__class__' is not allowed", replace={9: "  divides: __class__ == 1"}),
    Case("keyword-argument", 9, "min", "constraints.divides", "may only take plain positional arguments", replace={9: "  divides: min(heads, key=1) > 1"}),
    Case("in-without-list", 9, "hidden_size", "constraints.divides", "'in' needs a bracketed list", replace={9: "  divides: heads in hidden_size"}),
    Case("is-operator", 9, "heads is", "constraints.divides", "the operator 'is'", replace={9: "  divides: heads is 1"}),
    Case("boolean-literal", 9, "True", "constraints.divides", "the literal 'True' is not allowed", replace={9: "  divides: heads == True"}),
    Case("bitwise-operator", 9, "heads <<", "constraints.divides", "the operator '<<'", replace={9: "  divides: heads << 2 == 4"}),
    # -- resource bombs ---------------------------------------------------------------
    Case("huge-exponent", 9, "100000", "constraints.divides", "must be a whole number from 0 to 8", replace={9: "  divides: heads ** 100000 > 1"}),
    Case("power-tower", 9, "10 ** 10 >", "constraints.divides", "must be a whole number from 0 to 8", replace={9: "  divides: 10 ** 10 ** 10 > 1"}),
    Case("deep-parentheses", 9, None, "constraints.divides", "nests brackets more than 64 deep", replace={9: "  divides: " + "(" * 1500 + "1" + ")" * 1500 + " == 1"}),
    Case("thousands-of-parentheses", 9, "(", "constraints.divides", "characters long; the limit is 4000", replace={9: "  divides: " + "(" * 5000 + "1" + ")" * 5000 + " == 1"}),
    Case("deep-operators", 9, None, "constraints.divides", "nests more than 64 operations deep", replace={9: "  divides: " + " + ".join(["heads"] * 300) + " > 1"}),
    Case("very-long-expression", 9, "heads", "constraints.divides", "characters long; the limit is 4000", replace={9: "  divides: heads > " + "1" * 9000}),
    # -- types ------------------------------------------------------------------------
    Case("string-in-arithmetic", 9, "tok", "constraints.divides", "'tok' is a string; it cannot be used with '*', which needs numbers", replace={9: "  divides: tok * 2 > 1"}),
    Case("string-not-a-choice", 9, "'bpee'", "constraints.divides", "'bpee' is not a choice of 'tok' (choices: 'bpe', 'word')", replace={9: "  divides: tok == 'bpee'"}),
    Case("string-compared-with-number", 9, "3", "constraints.divides", "'==' compares a string ('tok') with a number ('3')", replace={9: "  divides: tok == 3"}),
    Case("modulo-of-fraction", 9, "drop", "constraints.divides", "'%' needs whole numbers, but 'drop' may be fractional", replace={9: "  divides: drop % 2 == 0"}),
    Case("constraint-not-a-condition", 9, "hidden_size", "constraints.divides", "a constraint must be a condition", replace={9: "  divides: hidden_size + heads"}),
    Case("and-of-numbers", 9, "heads", "constraints.divides", "'heads' is a number, but 'and' needs a condition", replace={9: "  divides: heads and hidden_size"}),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_malformed_spec_reports_line_and_field(case, write_spec):
    path = write_spec(case.spec_text())
    with pytest.raises(SpecError) as raised:
        load(path, metrics=METRICS)
    problems = raised.value.problems
    matching = [problem for problem in problems if case.message in problem.message + (f" ({problem.hint})" if problem.hint else "")]
    assert matching, f"no problem mentions {case.message!r}; got:\n{raised.value}"
    problem = matching[0]
    assert problem.file == str(path)
    assert problem.location.line == case.line, str(problem)
    if case.at is not None:
        line_text = case.spec_text().splitlines()[case.line - 1]
        assert problem.location.column == line_text.index(case.at) + 1, str(problem)
    assert ".".join(str(part) if not isinstance(part, int) else f"[{part}]" for part in problem.path).replace(".[", "[") == case.path


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30


def test_base_spec_is_valid():
    assert loads(BASE, metrics=METRICS).name == "case"


def test_all_problems_are_reported_at_once_in_line_order(write_spec):
    text = BASE.replace("  heads: {range: [1, 8]}", "  heads: {range: [8, 1]}").replace("size_mb: minimize", "size_mb: minimise")
    text += "serch: {}\n"
    with pytest.raises(SpecError) as raised:
        load(write_spec(text), metrics=METRICS)
    lines = [problem.location.line for problem in raised.value.problems]
    assert lines == [5, 11, 12]
    assert str(raised.value).splitlines()[0].endswith("space.heads.range: the range is empty: lo 8 is greater than hi 1 (did you mean [1, 8]?)")


def test_error_text_reads_file_line_column_field_message(write_spec):
    path = write_spec(BASE.replace("kind: defect", "kind: defct"))
    with pytest.raises(SpecError) as raised:
        load(path, metrics=METRICS)
    assert str(raised.value) == f"{path}:2:14: task.kind: expected one of defect, clone, classify, pair; got the string 'defct' (did you mean 'defect'?)"


def test_json_syntax_error_has_line_and_column(write_spec):
    path = write_spec('{\n  "name": "x",\n  "task": {"kind": "defect",}\n}\n', "spec.json")
    with pytest.raises(SpecError) as raised:
        load(path, metrics=METRICS)
    problem = raised.value.problems[0]
    assert (problem.location.line, problem.location.column) == (3, 29)
    assert "invalid JSON" in problem.message


def test_json_schema_error_has_line(write_spec):
    text = '{\n  "name": "x",\n  "task": {"kind": "defect", "data": "d"},\n  "space": {"a": {"range": [4, 1]}},\n  "objectives": {"size_mb": "minimize"}\n}\n'
    with pytest.raises(SpecError) as raised:
        load(write_spec(text, "spec.json"), metrics=METRICS)
    problem = raised.value.problems[0]
    assert problem.location.line == 4 and problem.path == ("space", "a", "range")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("spec.txt", "name: x", "unsupported file type '.txt'"),
        ("spec.yaml", None, "no such file"),
    ],
)
def test_file_level_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(SpecError, match=message):
        load(path, metrics=METRICS)


def test_not_utf8(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(SpecError, match="is not UTF-8 text"):
        load(path)


def test_alias_expansion_bomb_is_a_spec_error():
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for index in range(1, 8):
        previous = f"*a{index - 1}"
        lines.append(f"a{index}: &a{index} [{', '.join([previous] * 10)}]")
    with pytest.raises(SpecError, match="more than 100000 values"):
        loads("\n".join(lines) + "\n", metrics=METRICS)


def test_multi_megabyte_file_is_a_spec_error():
    with pytest.raises(SpecError, match="larger than the 1 MB"):
        loads("name: x\n" + "# padding\n" * 200_000, metrics=METRICS)


def test_deep_yaml_nesting_is_a_spec_error():
    with pytest.raises(SpecError):
        loads("a: " + "[" * 20000 + "]" * 20000 + "\n", metrics=METRICS)


@pytest.mark.parametrize("step", ["3.4e-93", "5e-324"])
def test_tiny_decimal_step_is_a_spec_error(step):
    text = BASE.replace("  drop: {range: [0.1, 0.3], step: 0.1}", f"  drop: {{range: [0.1, 0.3], step: {step}}}")
    with pytest.raises(SpecError, match="is too small"):
        loads(text, metrics=METRICS)


def test_small_decimal_step_still_bounds_the_values():
    text = BASE.replace("  drop: {range: [0.1, 0.3], step: 0.1}", "  drop: {range: [0.1, 0.3], step: 1.0e-12}")
    with pytest.raises(SpecError, match="at most 1,000,000 are allowed"):
        loads(text, metrics=METRICS)
