"""`manage.py demo_run` and `manage.py demo_sweep`."""

import contextlib
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command, execute_from_command_line
from django.utils import timezone

from advisor.models import DemoRun
from tests.factories import submitted_assessment

SMALL_REPLAY = ["messages=30", "late_consumers=2"]


def run_command(*args) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("demo_run", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def failing(*args) -> str:
    """What `manage.py demo_run ...` prints on stderr; it must exit 2."""
    stderr = StringIO()
    with (
        pytest.raises(SystemExit) as exit_info,
        contextlib.redirect_stdout(StringIO()),
        contextlib.redirect_stderr(stderr),
    ):
        execute_from_command_line(["manage.py", "demo_run", *args])
    assert exit_info.value.code == 2
    return stderr.getvalue().strip().removeprefix("CommandError: ")


def params(values):
    return [argument for value in values for argument in ("--param", value)]


def test_json_prints_the_metrics_document():
    out, _ = run_command("--scenario", "replay", *params(SMALL_REPLAY), "--format", "json")

    document = json.loads(out)
    assert document["scenario"] == "replay"
    assert document["parameters"]["messages"] == 30
    assert document["findings"]["log"]["late_consumer_reads"] == [30, 30]
    assert document["findings"]["broker"]["late_consumer_reads"] == [0, 0]


def test_text_prints_both_sides_as_a_table_and_the_summary():
    out, _ = run_command("--scenario", "replay", *params(SMALL_REPLAY))

    lines = out.splitlines()
    assert lines[0].startswith("replay on the embedded engine")
    header = next(line for line in lines if line.split() == ["broker", "log"])
    assert header
    assert any(line.startswith("end-to-end latency p99 (ms)") for line in lines)
    reads = next(line for line in lines if line.startswith("late consumer reads"))
    assert reads.split()[-2:] == ["30,", "30"]
    assert lines[-1].startswith("After a first consumer read 30 of 30 messages")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--scenario", "nope"],
            "'nope' is not a demo scenario; known scenarios: durability, exactly_once, "
            "push_pull, clustering, replay",
        ),
        (
            ["--scenario", "durability", "--param", "message_size=1"],
            "message_size: must be between 16 and 1048576 bytes, got 1",
        ),
        (
            ["--scenario", "exactly_once", "--param", "kills=many"],
            "kills: expected a whole number between 0 and 100, got 'many'",
        ),
        (
            ["--scenario", "replay", "--param", "speed=9"],
            "speed: 'speed' is not a parameter of replay; known parameters: messages, "
            "consumed_percent, late_consumers, message_size",
        ),
        (
            ["--scenario", "replay", "--param", "messages"],
            "--param 'messages': expected name=value, e.g. --param messages=1000",
        ),
        (
            ["--scenario", "replay", "--engine", "quantum"],
            "engine: 'quantum' is not a demo engine; known engines: embedded, live",
        ),
    ],
)
def test_bad_input_prints_one_line_naming_the_field_and_exits_2(args, message):
    assert failing(*args) == message


@pytest.mark.django_db
def test_demo_sweep_reports_how_many_runs_it_marked_failed(published_ruleset):
    assessment, _ = submitted_assessment("telemetry_lake")
    long_ago = timezone.now() - timedelta(hours=2)
    DemoRun.objects.create(
        assessment=assessment,
        scenario="replay",
        status=DemoRun.Status.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    stdout = StringIO()

    call_command("demo_sweep", stdout=stdout)

    assert stdout.getvalue().strip() == "Marked 1 stuck demo run as failed or sent again."
    assert DemoRun.objects.get().status == DemoRun.Status.FAILED
