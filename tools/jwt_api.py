"""The JWT callers' API in ``template.yaml``: generated from the HTTP API's routes by ``make openapi``.

An HTTP API route takes one authorizer or none, and API Gateway refuses (401) a request without a valid
token on a route with a JWT authorizer, so API keys and JWTs cannot share a route. JWT callers get a
second API (``JwtHttpApi``, created only when the ``JwtIssuer`` parameter is set) with the same routes,
each invoking the same function's ``live`` alias through a role API Gateway assumes
(``JwtApiInvokeRole``): a role rather than a Lambda permission per function, because SAM gives the
permissions it makes for function events no condition, and they would name an API that does not exist
when JWT callers are off. The functions tell the two apart by the claims in the event.

Each route is written once, as a function's ``HttpApi`` event on ``HttpApi``; this module writes the JWT
API's OpenAPI body and the role's resources from them, between the block's marker comments.
"""

from typing import Any

from tools.template import KEY_API, ROOT, Template

TEMPLATE = ROOT / "template.yaml"
JWT_API = "JwtHttpApi"
JWT_START = "  # JWT callers' API: generated from the HttpApi events by `make openapi` (tools/jwt_api.py), do not edit"
JWT_END = "  # end of the generated JWT callers' API"
_URI = "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Alias}/invocations"


def key_api_routes(template: Template) -> list[tuple[str, str, str]]:
    """(function, method, path) of each route on the API-key API, in template order; ``$default`` as path
    ``$default`` and method ``ANY``."""
    routes = []
    for logical_id, resource in template.resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            properties = event.get("Properties") or {}
            if event.get("Type") != "HttpApi" or properties.get("ApiId") != {"Ref": KEY_API}:
                continue
            method, path = properties.get("Method"), properties.get("Path")
            routes.append((logical_id, str(method or "ANY").upper(), str(path or "$default")))
    return routes


def jwt_api_block(template: Template) -> str:
    """The ``JwtHttpApi`` and ``JwtApiInvokeRole`` resources, as YAML lines of ``template.yaml``."""
    routes = key_api_routes(template)
    paths: dict[str, list[str]] = {}
    for function, method, path in routes:
        operation = "x-amazon-apigateway-any-method" if method == "ANY" else method.lower()
        paths.setdefault(path, []).append(f"{operation}: {_integration(function)}")
    functions = list(dict.fromkeys(function for function, _, _ in routes))
    lines = [
        f"  {JWT_API}:",
        "    Type: AWS::Serverless::HttpApi",
        "    Condition: JwtCallers",
        "    Properties:",
        "      Description: >-",
        "        Infergate HTTP API for JWT callers: the routes and functions of HttpApi, each behind API",
        "        Gateway's JWT authorizer (docs/architecture.md, JWT callers)",
        "      DefaultRouteSettings:",
        "        ThrottlingBurstLimit: !Ref ApiBurstLimit",
        "        ThrottlingRateLimit: !Ref ApiRateLimit",
        "      Auth:",
        "        DefaultAuthorizer: Issuer",
        "        Authorizers:",
        "          Issuer:",
        "            IdentitySource: $request.header.Authorization",
        "            JwtConfiguration: {issuer: !Ref JwtIssuer, audience: !Ref JwtAudiences}",
        "      DefinitionBody:",
        '        openapi: "3.0.1"',
        '        info: {title: !Sub "${AWS::StackName}-jwt", version: "1.0"}',
        "        paths:",
    ]
    for path, operations in paths.items():
        lines.append(f'          "{path}":')
        lines += [f"            {operation}" for operation in operations]
    lines += [
        "  JwtApiInvokeRole:",
        "    Type: AWS::IAM::Role",
        "    Condition: JwtCallers",
        "    Properties:",
        "      Description: Assumed by the JWT callers' API to invoke the functions of its routes, and nothing else",
        "      AssumeRolePolicyDocument:",
        '        Version: "2012-10-17"',
        "        Statement:",
        "          - Effect: Allow",
        "            Principal: {Service: apigateway.amazonaws.com}",
        "            Action: sts:AssumeRole",
        "      Policies:",
        "        - PolicyName: InvokeRouteFunctions",
        "          PolicyDocument:",
        '            Version: "2012-10-17"',
        "            Statement:",
        "              - Effect: Allow",
        "                Action: lambda:InvokeFunction",
        "                Resource:",
    ]
    lines += [f"                  - !Ref {function}.Alias" for function in functions]
    return "\n".join(lines)


def _integration(function: str) -> str:
    parts: dict[str, Any] = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "payloadFormatVersion": '"2.0"',
        "credentials": "!GetAtt JwtApiInvokeRole.Arn",
        "uri": f'!Sub ["{_URI}", {{Alias: !Ref {function}.Alias}}]',
    }
    inner = ", ".join(f"{name}: {value}" for name, value in parts.items())
    return f"{{x-amazon-apigateway-integration: {{{inner}}}}}"
