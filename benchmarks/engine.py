"""Time to validate and score one assessment, and to compute its flips.

Plain Python, no database: the engine with the default rules file. Prints the
median and p95 over many runs for each public persona. Goals (issue 2): under
1 ms to validate and score, under 20 ms with flips, on a 2-core machine.

    .venv/bin/python benchmarks/engine.py [--runs N]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.engine.answers import validate_answers  # noqa: E402
from advisor.engine.bank import default_bank  # noqa: E402
from advisor.engine.rules import DEFAULT_RULES_PATH, load_ruleset_file  # noqa: E402
from advisor.engine.scoring import recommend, score  # noqa: E402

PERSONAS = ROOT.parent / "shared" / "spec" / "personas-public.json"


def timed(function, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def describe(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered):.3f} ms, p95 {p95:.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    bank = default_bank()
    rules = load_ruleset_file(DEFAULT_RULES_PATH, bank=bank)
    personas = json.loads(PERSONAS.read_text())
    print(f"{len(rules.rules)} rules, {len(bank.questions)} questions, {args.runs} runs each")
    for name, persona in personas.items():
        answers = persona["answers"]

        def score_only(answers=answers):
            score(validate_answers(answers, bank), rules)

        def with_flips(answers=answers):
            recommend(answers, rules, bank)

        for function in (score_only, with_flips):  # warm-up
            timed(function, 50)
        print(f"{name}:")
        print(f"  validate + score: {describe(timed(score_only, args.runs))}")
        print(f"  with flips:       {describe(timed(with_flips, max(args.runs // 10, 50)))}")


if __name__ == "__main__":
    main()
