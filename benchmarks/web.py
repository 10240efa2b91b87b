"""Server time for a wizard step and for the recommendation page.

Uses the Django test client against a throw-away SQLite database (migrated, default
rules loaded), so it measures the server's work: URL routing, the view, the ORM and
template rendering, without a network. Prints p50 and p95 over many requests.
Goal (issue 3): under 50 ms at the median on a 2-core machine.

    .venv/bin/python benchmarks/web.py [--requests N]
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def timed(call, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 302), response.status_code
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    database = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    call_command("load_rules", verbosity=0)
    personas = json.loads((ROOT.parent / "shared" / "spec" / "personas-public.json").read_text())
    answers = personas["claims_and_fraud_analytics"]["answers"]

    client = Client()
    client.post("/assessments/new/", {"title": "Benchmark"})
    from questionnaire.models import Assessment

    assessment = Assessment.objects.get()
    step = f"/assessments/{assessment.pk}/delivery/"
    autosave = {"action": "autosave", "delivery_guarantee": "exactly_once", "ordering": "per_key"}
    assessment.answers = answers
    assessment.save()
    report_url = client.post(
        f"/assessments/{assessment.pk}/team/", {"action": "next", "team_experience": "both"}
    ).url

    cases = {
        "wizard step, GET (full page)": lambda: client.get(step),
        "wizard step, htmx GET (partial)": lambda: client.get(step, headers={"HX-Request": "true"}),
        "wizard autosave, htmx POST": lambda: client.post(
            step, autosave, headers={"HX-Request": "true"}
        ),
        "recommendation page, GET": lambda: client.get(report_url),
    }
    print(f"{args.requests} requests each, after 20 warm-up requests")
    for name, call in cases.items():
        timed(call, 20)
        samples = timed(call, args.requests)
        p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
        print(f"  {name:34} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")


if __name__ == "__main__":
    main()
