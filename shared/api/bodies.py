"""What a request body may be, per route: its largest size and its media types.

A body reaches a deployed function through API Gateway's HTTP API inside the Lambda invocation event,
and a synchronous invocation carries at most 6 MB (6,291,456 bytes) of event. A binary body (multipart
is one) arrives base64-encoded in that JSON, beside the headers and the request context, so the largest
multipart body a function can be sent is derived here, once, from those quotas:

- ``LAMBDA_PAYLOAD_BYTES``: 6,291,456, Lambda's quota for a synchronous invocation's payload.
- ``ENVELOPE_RESERVE_BYTES``: 64 KiB for everything in the event but the body. The request line and
  headers are at most ``MAX_HEADER_BYTES`` (10 KiB, API Gateway's quota); JSON escaping can at most double
  them (a ``"`` or ``\\`` becomes two characters; control characters cannot be in a header), 20 KiB. The
  path and query are repeated in ``rawPath``, ``requestContext.http.path``, ``pathParameters`` and
  ``queryStringParameters`` (at most another 20 KiB, they are within the 10 KiB too), and the fixed members
  (``requestContext``, ``routeKey``, ``version``: about 1 KiB measured) and the JSON punctuation fit in
  the rest, with room to spare.
- base64 turns every 3 bytes into 4 characters, so the body is at most 3/4 of what is left:
  (6,291,456 - 65,536) // 4 * 3 = 4,669,440 bytes.
"""

import re
from dataclasses import dataclass

LAMBDA_PAYLOAD_BYTES = 6_291_456
# API Gateway's HTTP API quota for the request line and headers together: a request over it never
# reaches a function. Checked by the middleware too, so every other way of serving the app agrees.
MAX_HEADER_BYTES = 10 * 1024
ENVELOPE_RESERVE_BYTES = 64 * 1024
MAX_MULTIPART_BODY_BYTES = (LAMBDA_PAYLOAD_BYTES - ENVELOPE_RESERVE_BYTES) // 4 * 3
# A JSON body: the largest input (256 KiB of compact JSON) with room for its whitespace and the rest.
MAX_JSON_BODY_BYTES = 1024 * 1024
# API Gateway's HTTP API refuses a request whose body is over 10 MB before any function runs.
GATEWAY_PAYLOAD_BYTES = 10 * 1024 * 1024

MULTIPART = "multipart/form-data"
# The part size the 413 suggests to the Uploads API: a power of two, with room for the part's framing.
PART_SIZE_HINT = 4 * 1024 * 1024


@dataclass(frozen=True)
class BodyRule:
    max_bytes: int
    multipart: bool  # multipart/form-data only; otherwise JSON (application/json or application/*+json)


JSON_BODY = BodyRule(MAX_JSON_BODY_BYTES, multipart=False)
MULTIPART_BODY = BodyRule(MAX_MULTIPART_BODY_BYTES, multipart=True)

# The routes whose bodies are multipart/form-data (the Files API's create and the Uploads API's parts).
_MULTIPART_ROUTES = (("POST", re.compile(r"/v1/files")), ("POST", re.compile(r"/v1/uploads/[^/]+/parts")))


def body_rule(method: str, path: str) -> BodyRule:
    """The rule of the route ``method path`` (JSON's for every route but the multipart ones)."""
    if any(method == m and pattern.fullmatch(path) for m, pattern in _MULTIPART_ROUTES):
        return MULTIPART_BODY
    return JSON_BODY


def too_large_detail(rule: BodyRule) -> str:
    """The 413's message: on a multipart route, the two ways to send a bigger file."""
    if not rule.multipart:
        return "The request body is too large."
    return (
        f"The request body is over {rule.max_bytes:,} bytes, the most a function can be sent. Send a bigger file "
        f"in parts with the Uploads API (client.uploads.upload_file_chunked(..., part_size={PART_SIZE_HINT})),"
        " or PUT it to the presigned URL that POST /v1/uploads returns."
    )
