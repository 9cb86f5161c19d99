"""The ``Prefer: wait[=N]`` request header (RFC 7240).

The header is a comma-separated list of preferences, ``token [BWS "=" BWS word] *(OWS ";" [OWS
parameter])``, where a ``word`` is a token or a quoted string: ``wait=5``, ``wait="5"`` and
``wait = 5`` say the same thing. Only the first ``wait`` counts (RFC 7240 §2); a ``wait`` inside a
quoted string or as another preference's parameter is not one. Anything unusable is ignored, as the
RFC asks, never refused.
"""

import re

_NAME = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_WORD = rf"(?:{_NAME}|{_QUOTED})"
_PREFERENCE = re.compile(
    rf"[ \t]*(?P<name>{_NAME})(?:[ \t]*=[ \t]*(?P<value>{_WORD}))?"
    rf"(?:[ \t]*;(?:[ \t]*{_NAME}(?:[ \t]*=[ \t]*{_WORD})?)?)*[ \t]*"
)
# One element of the list: commas inside a quoted string do not end it (nor does an unterminated quote).
_ELEMENT = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.)*(?:"|$))+')
_SECONDS = re.compile(r"[0-9]{1,10}")


def preferences(prefer: str) -> dict[str, str | None]:
    """Each preference's name (lower case) and value (unquoted; None without one), the first of each name."""
    found: dict[str, str | None] = {}
    for element in _ELEMENT.finditer(prefer):
        match = _PREFERENCE.fullmatch(element.group())
        if match is None:
            continue  # not a preference: ignored
        name, value = match.group("name").lower(), match.group("value")
        if value is not None and value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        found.setdefault(name, value)
    return found


def requested_wait(prefer: str | None, cap: float) -> float | None:
    """Seconds to hold the response, at most ``cap`` (a longer wish is capped, not ignored: the client
    would rather wait the cap than not at all); an unusable preference is ignored, as RFC 7240 asks."""
    found = preferences(prefer or "")
    if "wait" not in found:
        return None
    seconds = found["wait"]
    if seconds is None:
        return cap
    if _SECONDS.fullmatch(seconds) is None:
        return None
    wanted = int(seconds)
    return min(float(wanted), cap) if wanted >= 1 else None
