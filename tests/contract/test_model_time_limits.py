"""The model-call time limits (shared/settings.py) fit the functions that run models (template.yaml),
and the worker may give back the messages it had no time to start."""

import pytest

from shared.settings import ModelTimeSettings, SchemaSettings
from tools.template import load_template

API_GATEWAY_SECONDS = 30  # HTTP API's integration timeout
AROUND_THE_CALL = 5  # seconds a function needs besides the model call: auth, registry, loading, writes


def _defaults() -> ModelTimeSettings:
    return ModelTimeSettings.model_construct()  # the defaults, whatever this process's environment says


def _timeout(logical_id: str) -> int:
    return load_template().function(logical_id).timeout


@pytest.mark.parametrize("function", ["PredictModelFunction", "CreateEmbeddingsFunction"])
def test_a_sync_model_call_is_stopped_well_before_api_gateway_gives_up(function: str) -> None:
    limit = _defaults().predict_seconds

    assert limit + AROUND_THE_CALL <= _timeout(function) < API_GATEWAY_SECONDS


def test_the_worker_fits_more_than_one_whole_call_in_an_invocation() -> None:
    settings = _defaults()

    assert 2 * settings.worker_seconds + settings.worker_reserve_seconds <= _timeout("RunPredictionsFunction")
    assert settings.worker_reserve_seconds >= AROUND_THE_CALL


def test_the_registration_run_fits_the_inspector_and_the_register_function() -> None:
    limit = _defaults().registration_seconds

    assert limit + AROUND_THE_CALL <= _timeout("InspectModelArtifactFunction") < _timeout("CreateModelVersionFunction")
    assert limit <= _defaults().predict_seconds  # a model that passed registration can answer a small input


def test_checking_inputs_against_their_schema_fits_beside_the_model_call() -> None:
    schema = SchemaSettings.model_construct()  # the defaults
    model = _defaults()

    assert schema.evaluation_seconds + model.predict_seconds + AROUND_THE_CALL <= _timeout("PredictModelFunction")
    assert schema.chunk_validation_seconds < model.worker_seconds  # a chunk's model call gets the rest of its time


def test_visibility_changes_are_allowed_only_on_a_function_s_own_queue() -> None:
    changers = {}
    for spec in load_template().functions:
        own = [{"Fn::GetAtt": [trigger.queue, "Arn"]} for trigger in spec.queue_triggers]
        # Inline statements: the managed ApiCallerPolicy holds no SQS action, AWS's SQS policy no visibility change.
        for statement in spec.policy_statements:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(action.startswith("sqs:ChangeMessageVisibility") for action in actions):
                resources = (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                )
                assert all(resource in own for resource in resources), spec.logical_id
                changers[spec.logical_id] = resources

    assert changers["RunPredictionsFunction"] == [{"Fn::GetAtt": ["PredictionsQueue", "Arn"]}]
