"""Callers that present a JWT: the claims of a token that API Gateway's JWT authorizer has verified.

The authorizer checks the signature against the issuer's keys, the issuer, the audience and the token's
times before the function runs, and refuses (401) what fails; what it hands over is the token's claims,
each as a string (an array claim flattened to ``[a b c]``). What is left to do here is Infergate's own
policy: which claim names the tenant, which names the scopes, and which of the issuer's scope names mean
``predict`` and ``admin``. A token that names no valid tenant, or grants none of Infergate's scopes, is
refused (403): ID tokens and tokens meant for other APIs of the same issuer carry neither.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from shared.kernel.errors import InfergateError
from shared.keys.models import Caller, Credential, PermissionDeniedError, Scope, grants, is_tenant

JWT_PRINCIPAL_PREFIX = "jwt_"  # the rate-limit id of a token's subject (API key ids start with key_)
_PRINCIPAL_HASH_CHARS = 32


@dataclass(frozen=True)
class ClaimMapping:
    """Where a token says who it is for: the tenant's claim, the scopes' claim and the issuer's scope names
    that grant Infergate's scopes (the deployment's ``Jwt*`` template parameters)."""

    tenant_claim: str
    scopes_claim: str
    scope_names: Mapping[str, Scope]


class ClaimsRefusedError(InfergateError):
    """A verified token that does not say which tenant it acts for, or what it may do (403)."""


def caller_from_claims(claims: Mapping[str, str], mapping: ClaimMapping, needed: Scope) -> Caller:
    """The caller a verified token stands for, if it may do what ``needed`` allows."""
    tenant = claims.get(mapping.tenant_claim, "")
    if not tenant:
        raise ClaimsRefusedError(f"The token has no '{mapping.tenant_claim}' claim naming its tenant.")
    if not is_tenant(tenant):
        raise ClaimsRefusedError(
            f"The token's '{mapping.tenant_claim}' claim is not a tenant: 1-63 lower-case letters, digits or '-'."
        )
    named = claim_values(claims.get(mapping.scopes_claim, ""))
    held = frozenset(mapping.scope_names[name] for name in named if name in mapping.scope_names)
    if not held:
        wanted = ", ".join(f"'{name}'" for name in sorted(mapping.scope_names))
        raise ClaimsRefusedError(f"The token's '{mapping.scopes_claim}' claim grants none of {wanted}.")
    if not grants(held, needed):
        raise PermissionDeniedError(needed, Credential.JWT)
    subject = claims.get("sub") or claims.get("client_id")
    if not subject:
        raise ClaimsRefusedError("The token has neither a 'sub' nor a 'client_id' claim naming its subject.")
    return Caller(tenant, principal_id(claims.get("iss", ""), subject), held, Credential.JWT)


def principal_id(issuer: str, subject: str) -> str:
    """A short, stable id for a token's subject: rate limits count it as they count a key, and logs name it
    without repeating the subject (an e-mail address, say) itself."""
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()
    return JWT_PRINCIPAL_PREFIX + digest[:_PRINCIPAL_HASH_CHARS]


def claim_values(value: str) -> list[str]:
    """The names in a claim as API Gateway passes it: ``"a b"`` (OAuth's space-separated ``scope``) or
    ``"[a b]"`` (an array claim, such as Okta's ``scp`` or Entra ID's ``roles``). Scope names hold no
    spaces (RFC 6749, section 3.3), so both split on whitespace."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return text.split()
