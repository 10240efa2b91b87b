"""Advice an expert would sign (issue 10): binding decisive needs, facts counted once,
refuted article claims that move no score, corrected facts, and the architects' cases.

Plain pytest, no database: the engine and the knowledge files only.
"""

import json
import os
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings

from advisor.engine.answers import random_answers, validate_answers
from advisor.engine.knowledge import (
    refuted_claims,
    starting_config_entries,
    starting_configuration,
    tradeoffs,
)
from advisor.engine.scoring import fired_rules, recommend, score, tally
from tests.advisor.test_engine import answer_sets, moved_toward_a_side
from tests.conftest import load_personas

PERSONAS = load_personas()
# The suite runs 500 examples; ADVISOR_PROPERTY_EXAMPLES=20000 runs the long check once.
PROPERTY_EXAMPLES = int(os.environ.get("ADVISOR_PROPERTY_EXAMPLES", "500"))
ORDER = {"artemis": 0, "hybrid": 1, "kafka": 2}  # the verdict axis, broker to log


def all_texts(default_rules) -> str:
    """Every claim the product shows: rules, trade-offs and the starting configuration."""
    parts = []
    for rule in default_rules.rules:
        parts += [rule.title, rule.rationale, rule.caveat]
    for entry in tradeoffs().values():
        parts += [entry.title, entry.text, entry.correction_text]
    for entry in starting_config_entries():
        parts += [entry.setting, entry.why]
    return "\n".join(parts)


# -- personas ---------------------------------------------------------------------


def test_at_least_twelve_personas_tell_a_story_and_an_experts_reason():
    told = {
        name: persona
        for name, persona in PERSONAS.items()
        if persona.get("story", "").strip() and persona.get("why", "").strip()
    }
    assert len(told) >= 15  # 12 and more, plus the three architects
    for persona in told.values():
        assert persona["why"].rstrip().endswith(").")  # the reason cites its sources


@pytest.mark.parametrize("name", sorted(n for n in PERSONAS if "close_call" in PERSONAS[n]))
def test_close_calls_are_shown_as_close_calls(name, bank, default_rules):
    persona = PERSONAS[name]
    result = recommend(persona["answers"], default_rules, bank)
    assert result.close_call is persona["close_call"]
    if result.close_call:
        assert result.margin < default_rules.close_call_margin
        assert result.flips or result.weight_flips


def test_payments_on_jms_with_xa_get_the_broker(bank, default_rules):
    result = recommend(PERSONAS["architect_payments_jms_xa"]["answers"], default_rules, bank)
    assert result.recommendation == "artemis"
    assert result.decisive_needs == {"artemis": ["xa-needs-broker"], "kafka": []}
    assert result.reasons[0].rule == "xa-needs-broker"
    settings = [
        line.setting for line in starting_configuration(result.answers, "artemis")["artemis"]
    ]
    assert any("XA" in setting for setting in settings)
    assert any("three primary/backup pairs" in setting for setting in settings)


def test_iot_telemetry_gets_kafka_with_an_mqtt_front_end(bank, default_rules):
    result = recommend(PERSONAS["architect_iot_telemetry_mqtt"]["answers"], default_rules, bank)
    assert result.recommendation == "kafka"
    assert result.split is not None and result.split.kind == "edge"
    assert "MQTT" in result.split.broker[0] and "MQTT" in result.split.bridge
    kafka_lines = starting_configuration(result.answers, "kafka")["kafka"]
    assert any(line.setting.startswith("An MQTT front end") for line in kafka_lines)
    # devices without MQTT: no front end is proposed
    answers = {**result.answers, "edge_protocols": "same", "protocols": ["kafka"]}
    answers["kafka_clients_ok"] = "yes"
    plain = score(validate_answers(answers, bank), default_rules)
    assert plain.recommendation == "kafka" and plain.split is None


def test_retailer_with_jms_orders_and_clickstream_gets_both_with_the_split(bank, default_rules):
    persona = PERSONAS["architect_retail_orders_and_clickstream"]
    result = recommend(persona["answers"], default_rules, bank)
    assert result.recommendation == "hybrid"
    split = result.split
    assert split.kind == "hybrid"
    assert {"Urgent messages overtake routine ones", "Scheduled and delayed delivery"} <= set(
        split.broker
    )
    assert "Windows, joins and aggregates over the flow" in split.kafka
    assert "Kafka Connect JMS" in split.bridge and "Camel" in split.bridge
    assert "JMS bridge cannot" in split.bridge


def test_partner_gateway_with_replay_is_both_not_kafka(bank, default_rules):
    """The case of the issue: partners cannot run a Kafka client, readers replay for days."""
    result = recommend(PERSONAS["partner_gateway_with_replay"]["answers"], default_rules, bank)
    assert result.decisive_needs["artemis"] and not result.decisive_needs["kafka"]
    assert result.scores["kafka"] > result.scores["artemis"]
    assert result.recommendation == "hybrid"
    assert "AMQP" in result.split.bridge


# -- decisive needs bind ------------------------------------------------------------


def test_a_one_sided_decisive_need_never_yields_the_other_side(bank, default_rules):
    @settings(
        max_examples=PROPERTY_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(answers=answer_sets(bank))
    def check(answers):
        result = score(answers, default_rules)
        holders = [side for side, needs in result.decisive_needs.items() if needs]
        if len(holders) == 1:
            (side,) = holders
            assert result.recommendation in (side, "hybrid")
        elif len(holders) == 2:
            assert result.recommendation == "hybrid"

    check()


def test_a_change_toward_one_side_never_moves_the_verdict_away_from_it(bank, default_rules):
    """Metamorphic: answering one question with an option typical of a side moves the
    verdict toward that side on the axis broker - both - Kafka, or leaves it."""

    @settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=moved_toward_a_side())
    def check(case):
        answers, changed, side = case
        before = ORDER[score(answers, default_rules).recommendation]
        after = ORDER[score(changed, default_rules).recommendation]
        if side == "kafka":
            assert after >= before
        else:
            assert after <= before

    check()


# -- one fact counts once -----------------------------------------------------------


def test_a_kafka_shop_counts_once(bank, default_rules):
    answers = validate_answers(PERSONAS["kafka_shop_work_queue_on_4_2"]["answers"], bank)
    result = score(answers, default_rules)
    shop = [r for r in result.reasons if r.group == "kafka-shop"]
    assert len(shop) >= 4  # placement, Kafka API clients, all speak Kafka, team, estate
    counted = [r for r in shop if r.counted]
    assert len(counted) == 1
    assert all(r.points == 0 and r.explains == counted[0].rule for r in shop if not r.counted)
    # the counted one is the strongest of the group
    assert counted[0].base_points * counted[0].weight == max(r.base_points * r.weight for r in shop)


def test_no_loss_counts_once(bank, default_rules):
    answers = validate_answers(PERSONAS["order_fulfilment_jms"]["answers"], bank)
    totals = tally(fired_rules(answers, default_rules))
    disk = {"sync-disk-before-ack", "no-loss-on-correlated-failure"}
    assert len(disk & set(totals.counted)) == 1
    assert "guaranteed-delivery-of-each-message" not in totals.counted  # refuted (M12)


def test_groups_never_mix_sides(default_rules):
    sides = {}
    for rule in default_rules.rules:
        if rule.group:
            sides.setdefault(rule.group, set()).add(rule.favours)
    assert sides and all(len(found) == 1 for found in sides.values())


# -- refuted claims move no score ---------------------------------------------------


def test_refuted_article_claims_move_no_score(bank, default_rules):
    refuted_rules = [rule for rule in default_rules.rules if rule.refuted_by]
    assert {rule.refuted_by for rule in refuted_rules} >= {"M10", "M11", "M12"}
    rng = random.Random(13)
    for _ in range(150):
        answers = random_answers(bank, rng)
        before = score(answers, default_rules)
        for weight in (0.0, 10.0):
            changed = default_rules.with_weights({rule.id: weight for rule in refuted_rules})
            after = score(answers, changed)
            assert (after.recommendation, after.scores) == (before.recommendation, before.scores)
        for reason in before.reasons:
            if reason.refuted_by:
                assert reason.points == 0 and not reason.counted and not reason.decisive


def test_a_rule_resting_only_on_refuted_claims_is_marked_refuted(default_rules):
    refuted = refuted_claims()
    assert refuted == {"T6", "T7"}
    for rule in default_rules.rules:
        article = [c for c in rule.citations if c.startswith("T")]
        if article and set(article) <= refuted:
            assert rule.refuted_by, rule.id


def test_the_trade_offs_say_where_2026_practice_differs():
    known = tradeoffs()
    for claim in ("T1", "T3", "T4", "T5", "T6", "T7"):
        entry = known[claim]
        assert entry.status in ("qualified", "refuted")
        assert known[entry.correction].kind == "expert" and entry.correction_text
    assert known["T1"].correction == "M9" and known["T5"].correction == "M10"
    assert known["T6"].correction == "M11" and known["T7"].correction == "M12"
    assert [f"M{n}" for n in range(1, 14)] == [i for i in known if i.startswith("M")]


def test_every_claim_links_its_source():
    for entry in tradeoffs().values():
        assert entry.links and all(link.url.startswith("https://") for link in entry.links)
    for entry in starting_config_entries():
        assert entry.links and all(link.url.startswith("https://") for link in entry.links)
    assert tradeoffs()["T1"].links[0].url == (
        "https://developers.redhat.com/articles/2023/02/16/comparison-activemq-and-kafka"
    )


# -- the corrected facts, one test each ---------------------------------------------


def test_duplicate_detection_removes_duplicate_sends_not_effects(default_rules):
    rule = default_rules.by_id["broker-enforced-exactly-once"]
    assert not rule.decisive
    assert "duplicate sends, not duplicate effects" in rule.caveat
    assert "XA or idempotent" in tradeoffs()["M12"].text


def test_the_strimzi_bridge_is_not_an_amqp_bridge(default_rules):
    text = all_texts(default_rules)
    assert "AMQP/HTTP bridge" not in text and "AMQP or HTTP bridge" not in text
    assert "0.23" in tradeoffs()["M9"].text


def test_kafka_flushes_on_roll_and_shutdown_and_elr_is_on_for_new_clusters(default_rules):
    text = all_texts(default_rules)
    assert "never fsync" not in text and "never calls fsync" not in text
    m2 = tradeoffs()["M2"].text
    assert "flushes a segment when it rolls and at a clean shutdown" in m2
    assert "KIP-966" in m2 and "since 4.1" in m2
    settings = [entry.setting for entry in starting_config_entries()]
    assert any("Eligible Leader Replicas" in s and "4.1" in s for s in settings)


def test_quorum_voting_needs_three_pairs():
    assert "at least three primary/backup pairs" in tradeoffs()["M6"].text
    ha = next(e for e in starting_config_entries() if e.setting.startswith("ha-policy"))
    assert "three primary/backup pairs" in ha.setting and "lock manager" in ha.setting


def test_there_is_no_consumer_window_size_element(default_rules):
    text = all_texts(default_rules)
    mentions = re.findall(r"(?<![-\w])consumer-window-size(?! element)", text)
    assert not mentions
    prefetch = next(e for e in starting_config_entries() if "consumerWindowSize" in e.setting)
    assert "default-consumer-window-size" in prefetch.setting and "credit" in prefetch.setting


def test_message_groups_warn_against_clustering():
    groups = next(e for e in starting_config_entries() if "JMSXGroupID" in e.setting)
    assert "combines poorly with clustering" in groups.why


def test_share_groups_are_version_aware(bank):
    answers = {**PERSONAS["kafka_shop_work_queue_on_4_2"]["answers"]}
    new = starting_configuration(validate_answers(answers, bank), "kafka")["kafka"]
    share = next(line for line in new if line.setting.startswith("A share group"))
    assert "share.version=1" in share.setting and "no per-key ordering" in share.why
    old = starting_configuration(
        validate_answers({**answers, "kafka_version": "v3"}, bank), "kafka"
    )["kafka"]
    assert not any(line.setting.startswith("A share group") for line in old)
    assert any("A consumer group" in line.setting for line in old)
    assert any("Kafka 4.2 or later" in line.setting for line in old)


def test_the_jms_bridge_is_not_a_bridge_to_kafka(default_rules):
    bridge = next(e for e in starting_config_entries() if e.hybrid_only)
    assert "JMS bridge cannot" in bridge.setting and "commercial licence" in bridge.setting
    assert "A JMS bridge or Kafka Connect" not in all_texts(default_rules)


def test_no_cloud_offers_managed_artemis(default_rules):
    m11 = tradeoffs()["M11"].text
    assert "Amazon MQ (ActiveMQ Classic and RabbitMQ)" in m11
    assert "no cloud offers managed Artemis" in m11
    assert "ActiveMQ-based services" not in all_texts(default_rules)


def test_openwire_deprecation_and_single_copy_storage(default_rules):
    m13 = tradeoffs()["M13"].text
    assert "deprecated OpenWire in 7.9" in m13 and "removal in 8.0" in m13
    assert "once with one reference per queue" in m13
    assert "copies each message into one queue per subscriber" not in all_texts(default_rules)


def test_flink_checkpoints_to_its_own_state_backend(default_rules):
    streams = next(e for e in starting_config_entries() if "Flink" in e.setting)
    assert "checkpoints to its own state backend" in streams.setting
    assert "Kafka Streams or Flink with state stores on changelog topics" not in all_texts(
        default_rules
    )


# -- the new questions stay optional and neutral -------------------------------------


def test_answers_files_of_todays_contract_stay_valid(bank, default_rules):
    optional = [q for q in bank.questions if q.optional]
    assert {q.id for q in optional} >= {
        "current_estate",
        "operated_by",
        "managed_offerings",
        "kafka_version",
        "backlog",
        "site_recovery",
        "destinations",
        "edge_protocols",
    }
    public = json.loads(json.dumps(PERSONAS["order_fulfilment_jms"]["answers"]))
    assert not set(public) & {q.id for q in optional}
    result = recommend(public, default_rules, bank)
    assert result.recommendation == "artemis"
    assert all(result.answers[q.id] == q.default for q in optional)


def test_optional_defaults_are_neutral(bank, default_rules):
    """A default that a rule names would move scores for people who never answered."""
    named = {
        (question, json.dumps(value))
        for rule in default_rules.rules
        for question, value in rule.when.values()
    }
    for question in bank.questions:
        if not question.optional:
            continue
        defaults = question.default if question.kind == "multi" else [question.default]
        for value in defaults:
            assert (question.id, json.dumps(value)) not in named, question.id


def test_replicated_and_synced_is_a_durability_answer(bank, default_rules):
    assert "replicated_sync" in bank.by_id["ack_durability"].values
    answers = {**PERSONAS["architect_payments_jms_xa"]["answers"]}
    result = recommend(answers, default_rules, bank)
    assert "replicated-and-synced" in [r.rule for r in result.reasons]
    kafka = starting_configuration(result.answers, "kafka")["kafka"]
    assert any(line.setting.startswith("flush.messages=1") for line in kafka)
