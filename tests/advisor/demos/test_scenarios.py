"""Scenario descriptions and parameter validation (form, API and --param k=v alike)."""

import itertools

import pytest

from advisor.demos.scenarios import (
    SCENARIOS,
    ParameterError,
    parameters_from_answers,
    validate_parameters,
)


def test_the_five_scenarios_of_the_spec_exist_with_two_models_each():
    assert list(SCENARIOS) == ["durability", "exactly_once", "push_pull", "clustering", "replay"]
    for name, scenario in SCENARIOS.items():
        assert scenario.name == name
        assert scenario.claims and scenario.shows and scenario.broker_model and scenario.log_model
        for parameter in scenario.parameters:
            assert parameter.minimum <= parameter.default <= parameter.maximum


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_defaults_are_valid(name):
    assert validate_parameters(name, {}) == SCENARIOS[name].defaults()


def test_strings_from_forms_and_the_command_line_are_coerced():
    parameters = validate_parameters(
        "push_pull", {"messages": "300", "processing_ms": "1.5", "prefetch": " 10 "}
    )

    assert parameters["messages"] == 300
    assert parameters["processing_ms"] == 1.5
    assert parameters["prefetch"] == 10


def test_an_unknown_parameter_is_named():
    with pytest.raises(ParameterError) as error:
        validate_parameters("durability", {"mesages": 10})

    assert error.value.field == "mesages"
    assert "messages" in str(error.value)  # the known parameters are listed


def test_an_out_of_bounds_value_names_the_field_and_its_range():
    with pytest.raises(ParameterError) as error:
        validate_parameters("clustering", {"nodes": 40})

    assert error.value.field == "nodes"
    assert "between 2 and 6" in str(error.value)


@pytest.mark.parametrize("value", ["many", "1.5", True, [3]])
def test_a_value_that_is_not_a_whole_number_is_refused(value):
    with pytest.raises(ParameterError) as error:
        validate_parameters("replay", {"late_consumers": value})

    assert error.value.field == "late_consumers"
    assert "between 1 and 5" in str(error.value)


def test_too_many_bytes_for_the_message_size_is_refused_on_messages():
    with pytest.raises(ParameterError) as error:
        validate_parameters("durability", {"message_size": 1024 * 1024, "messages": 1000})

    assert error.value.field == "messages"
    assert "at most 256" in str(error.value)


def test_an_unknown_scenario_is_refused_with_the_known_ones():
    with pytest.raises(ParameterError) as error:
        validate_parameters("latency", {})

    assert error.value.field is None
    assert "durability" in str(error.value)


def test_answers_give_bounded_parameters_for_every_combination():
    answer_values = itertools.product(
        ["small", "medium", "large"],
        ["lt_1k", "1k_100k", "100k_1m", "gt_1m"],
        ["one", "few", "many"],
        ["single", "cluster", "multi_site"],
    )
    for size, throughput, groups, topology in answer_values:
        answers = {
            "message_size": size,
            "throughput": throughput,
            "consumer_groups": groups,
            "topology": topology,
        }
        for name in SCENARIOS:
            parameters = parameters_from_answers(name, answers)
            assert validate_parameters(name, parameters) == parameters


def test_answers_shape_the_workload():
    answers = {"message_size": "large", "consumer_groups": "many", "topology": "multi_site"}

    assert parameters_from_answers("durability", answers)["message_size"] == 1024 * 1024
    assert parameters_from_answers("durability", answers)["messages"] == 256
    assert parameters_from_answers("replay", answers)["late_consumers"] == 5
    assert parameters_from_answers("clustering", answers)["nodes"] == 5
    assert parameters_from_answers("replay", {})["late_consumers"] == 2  # the default


def test_a_live_clustering_run_capped_at_the_clusters_nodes_says_so():
    from advisor.demos.scenarios import SCENARIOS

    metrics = {
        "engine": "live",
        "parameters": {"nodes": 5},
        "machine": {"cpu_count": 8},
        "findings": {
            "nodes_requested": 5,
            "artemis_nodes": 3,
            "kafka_brokers": 3,
            "nodes_note": "5 nodes asked for; the targets have 3 Artemis nodes and 3 Kafka "
            "brokers, so the probes used 3 and 3",
        },
    }
    caveats = SCENARIOS["clustering"].display.caveats(metrics)
    assert caveats == [
        "5 nodes asked for; the targets have 3 Artemis nodes and 3 Kafka brokers, "
        "so the probes used 3 and 3."
    ]
    # On two CPUs the three nodes used (not the five asked for) share them.
    metrics["machine"]["cpu_count"] = 2
    assert "for 3 node processes" in SCENARIOS["clustering"].display.caveats(metrics)[1]
