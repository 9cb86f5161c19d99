"""``template.yaml`` translated to CloudFormation by the SAM translator, as ``sam validate`` does it.

The local stack and the tests read the functions, roles, event sources, schedules and routes from
this translation, so they see what ``sam deploy`` creates (Globals merged, policy templates expanded,
event sources and the HTTP API's routes as CloudFormation resources) rather than a hand-made merge.

As in the SAM CLI (``samcli/lib/translate/sam_template_validator.py``): local ``CodeUri`` and
``ContentUri`` folders become a placeholder S3 URI before the translator runs (it accepts no local
paths), and no AWS call is made: AWS managed policies named by name resolve from the translator's
bundled map, as they would in ``sam validate`` before it asks IAM.

Translating costs about 2 s (mostly importing the translator), so the result is kept on disk under
``.aws-sam/translated/``, keyed by the template's text and the translator's version; every test
process and xdist worker after the first reads that file instead.
"""

import copy
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

PLACEHOLDER_S3_URI = "s3://bucket/value"  # the SAM CLI's placeholder for a local code folder
REGION = "us-east-1"
CACHE_DIR = Path(__file__).resolve().parent.parent / ".aws-sam" / "translated"
_LOCAL_URI_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}
_OPTIONAL_URI_TYPES = {"AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::Serverless::StateMachine"}


def translator_version() -> str:
    import samtranslator

    return str(samtranslator.__version__)


def with_placeholder_uris(sam_template: dict[str, Any]) -> dict[str, Any]:
    """A copy whose local folders (``CodeUri: functions/x/``) are the SAM CLI's placeholder S3 URI."""
    template = copy.deepcopy(sam_template)
    global_function = template.get("Globals", {}).get("Function")
    if isinstance(global_function, dict):
        _to_s3_uri(global_function, "CodeUri")
    for resource in template.get("Resources", {}).values():
        if not isinstance(resource, dict):
            continue
        properties = resource.get("Properties")
        kind = resource.get("Type")
        if not isinstance(properties, dict):
            continue
        key = _LOCAL_URI_PROPERTIES.get(str(kind))
        if key is None or (kind in _OPTIONAL_URI_TYPES and key not in properties):
            continue
        if kind == "AWS::Serverless::Function" and properties.get("PackageType", "Zip") != "Zip":
            continue
        _to_s3_uri(properties, key)
    return template


def _to_s3_uri(properties: dict[str, Any], key: str) -> None:
    value = properties.get(key, ".")
    if isinstance(value, dict) or (isinstance(value, str) and value.startswith("s3://")):
        return
    properties[key] = PLACEHOLDER_S3_URI


def _no_aws_managed_policies() -> dict[str, str]:
    """The fallback name -> ARN map ``sam validate`` fetches from IAM; here empty, so nothing calls AWS.

    The translator resolves the AWS managed policies it knows from its bundled map first; a name it
    does not know stays a name, as it would with an IAM call that found nothing.
    """
    return {}


def translate(sam_template: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation template ``sam validate`` / ``sam deploy`` make of ``sam_template``."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator(
        managed_policy_map=None,
        sam_parser=Parser(),
        plugins=[],
        boto_session=boto3.session.Session(region_name=REGION),
    )
    translated: dict[str, Any] = translator.translate(
        sam_template=with_placeholder_uris(sam_template),
        parameter_values={},
        get_managed_policy_map=_no_aws_managed_policies,
    )
    # JSON-shaped (the translator may return its own str and dict subclasses), as the cache file holds it.
    loaded: dict[str, Any] = json.loads(json.dumps(translated))
    return loaded


def cached_translation(text: str, sam_template: dict[str, Any], cache_dir: Path = CACHE_DIR) -> dict[str, Any]:
    """``translate(sam_template)``, read from ``cache_dir`` when this text was translated by this translator."""
    key = hashlib.sha256(f"{translator_version()}\0{PLACEHOLDER_S3_URI}\0{text}".encode()).hexdigest()
    path = cache_dir / f"{key}.json"
    try:
        cached: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    else:
        return cached
    translated = translate(sam_template)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: xdist workers translating at once never read half a file.
    handle, temporary = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(translated, out)
    Path(temporary).replace(path)
    return translated
