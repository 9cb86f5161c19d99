"""JWT callers in the template: off by default, and when on, a second HTTP API with exactly the API-key API's
routes and functions, each behind API Gateway's JWT authorizer, invoking through a role that may invoke
those functions' aliases and nothing else."""

import json
import re
from typing import Any

import pytest

from shared.settings import JwtClaimSettings
from tools.jwt_api import JWT_API, key_api_routes
from tools.template import KEY_API, load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE.translated["Resources"]
JWT_RESOURCES = {"JwtHttpApi", "JwtHttpApiApiGatewayDefaultStage", "JwtApiInvokeRole"}


def _operations(api: str) -> list[tuple[str, str, dict[str, Any]]]:
    body = RESOURCES[api]["Properties"]["Body"]
    return [(path, method, op) for path, ops in body["paths"].items() for method, op in ops.items()]


def test_the_jwt_api_serves_every_route_of_the_key_api_with_the_same_function() -> None:
    key_routes = TEMPLATE.routes_on(KEY_API)
    jwt_routes = TEMPLATE.routes_on(JWT_API)

    assert jwt_routes == key_routes
    assert sum(len(routes) for routes in key_routes.values()) == len(key_api_routes(TEMPLATE)) > 40


def test_every_jwt_route_requires_the_issuers_token() -> None:
    body = RESOURCES[JWT_API]["Properties"]["Body"]
    authorizer = body["components"]["securitySchemes"]["Issuer"]["x-amazon-apigateway-authorizer"]

    assert authorizer == {
        "type": "jwt",
        "identitySource": "$request.header.Authorization",
        "jwtConfiguration": {"issuer": {"Ref": "JwtIssuer"}, "audience": {"Ref": "JwtAudiences"}},
    }
    for path, method, operation in _operations(JWT_API):
        assert operation["security"] == [{"Issuer": []}], (method, path)
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["credentials"] == {"Fn::GetAtt": ["JwtApiInvokeRole", "Arn"]}
        assert (integration["type"], integration["payloadFormatVersion"]) == ("aws_proxy", "2.0")


def test_the_key_api_has_no_authorizer() -> None:
    """API keys are checked by the functions; an authorizer there would refuse them."""
    for path, method, operation in _operations(KEY_API):
        assert "security" not in operation, (method, path)
    assert "securitySchemes" not in RESOURCES[KEY_API]["Properties"]["Body"].get("components", {})


def test_the_invoke_role_may_invoke_the_route_functions_aliases_and_nothing_else() -> None:
    role = RESOURCES["JwtApiInvokeRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    [policy] = role["Policies"]
    [grant] = policy["PolicyDocument"]["Statement"]
    route_functions = {function for function, _, _ in key_api_routes(TEMPLATE)}

    apigateway = {"Service": "apigateway.amazonaws.com"}
    assert trust == {"Effect": "Allow", "Principal": apigateway, "Action": "sts:AssumeRole"}
    assert (grant["Effect"], grant["Action"]) == ("Allow", "lambda:InvokeFunction")
    aliases = {resource["Ref"] for resource in grant["Resource"]}
    assert {RESOURCES[alias]["Type"] for alias in aliases} == {"AWS::Lambda::Alias"}
    assert {RESOURCES[alias]["Properties"]["FunctionName"]["Ref"] for alias in aliases} == route_functions


def test_jwt_callers_are_off_by_default_and_all_their_resources_share_one_condition() -> None:
    parameters = TEMPLATE.raw["Parameters"]
    conditions = TEMPLATE.translated["Conditions"]

    assert parameters["JwtIssuer"]["Default"] == ""
    assert conditions["JwtCallers"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "JwtIssuer"}, ""]}]}
    conditional = {name for name, resource in RESOURCES.items() if resource.get("Condition") == "JwtCallers"}
    assert conditional == JWT_RESOURCES
    assert TEMPLATE.translated["Outputs"]["JwtApiUrl"]["Condition"] == "JwtCallers"


def test_nothing_unconditional_names_a_jwt_resource() -> None:
    """CloudFormation refuses a stack whose resource refers to one its condition left out."""
    pattern = re.compile("|".join(sorted(JWT_RESOURCES)))
    for name, resource in RESOURCES.items():
        if resource.get("Condition") != "JwtCallers":
            assert not pattern.search(json.dumps(resource)), name


def test_an_issuer_needs_an_audience() -> None:
    [assertion] = TEMPLATE.raw["Rules"]["JwtCallersNeedAnAudience"]["Assertions"]

    assert TEMPLATE.raw["Rules"]["JwtCallersNeedAnAudience"]["RuleCondition"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "JwtIssuer"}, ""]}]
    }
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Contains": [{"Ref": "JwtAudiences"}, ""]}]}


@pytest.mark.parametrize(
    ("parameter", "variable"),
    [
        ("JwtTenantClaim", "JWT_TENANT_CLAIM"),
        ("JwtScopesClaim", "JWT_SCOPES_CLAIM"),
        ("JwtPredictScope", "JWT_PREDICT_SCOPE"),
        ("JwtAdminScope", "JWT_ADMIN_SCOPE"),
    ],
)
def test_the_claim_mapping_parameters_reach_the_functions_with_the_settings_defaults(
    parameter: str, variable: str
) -> None:
    environment = TEMPLATE.raw["Globals"]["Function"]["Environment"]["Variables"]
    field = next(field for field in JwtClaimSettings.model_fields.values() if field.validation_alias == variable)

    assert environment[variable] == {"Ref": parameter}
    assert TEMPLATE.raw["Parameters"][parameter]["Default"] == field.default
