"""Constraints /openapi.json cannot state in JSON Schema, for schemathesis (test/schemathesis.test.ts).

Each hook drops the generated requests that break one rule the server enforces across time, parameters or its
own state, and that the document states in prose: without them, such a request would be counted as "valid data
rejected". Nothing here touches responses or failures. The server's answer to each (400, naming the problem) is
tested in test/api-validation.test.ts and test/search-api.test.ts.
"""

import base64
import json
import re
from datetime import date, datetime, timezone

import schemathesis

POSITION = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _instant(value):
    """The moment an ISO 8601 date or date-time with a zone names, or None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), timezone.utc)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo is not None else None
    except ValueError:
        return None


def _issued_cursor(value) -> bool:
    """Whether a cursor decodes as the API's own do: base64url of [position, asset id]."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError):
        return False
    return (
        isinstance(decoded, list)
        and len(decoded) == 2
        and isinstance(decoded[0], str)
        and bool(POSITION.match(decoded[0]))
        and isinstance(decoded[1], str)
        and bool(UUID.match(decoded[1]))
    )


def _query_fits(query) -> bool:
    # createdTo must be later than createdFrom: a relation between two parameters.
    start, end = _instant(query.get("createdFrom")), _instant(query.get("createdTo"))
    if start is not None and end is not None and start >= end:
        return False
    # Only a cursor the API issued (a `next`) pages on; any other string of the cursor's alphabet is refused.
    cursor = query.get("cursor")
    if isinstance(cursor, str) and re.fullmatch(r"[A-Za-z0-9_-]+", cursor) and not _issued_cursor(cursor):
        return False
    return True


def _upload_fits(body) -> bool:
    # expiresAt must be in the future: a relation to the clock.
    expires = _instant(body.get("expiresAt"))
    return expires is None or expires > datetime.now(timezone.utc)


def _release_fits(body) -> bool:
    """The release rules (domain/visibility.ts): relations between fields and to the clock."""
    # An open asset (public, unlisted) is readable by every caller by design: the stateful phase's authorization
    # check would report the peer's 200 as a bypass. test/access-matrix.test.ts pins who reads what at each visibility.
    if body.get("visibility") in ("public", "unlisted"):
        return False
    publish, unpublish = _instant(body.get("publishAt")), _instant(body.get("unpublishAt"))
    # A draft cannot be scheduled.
    if body.get("visibility") == "draft" and (body.get("publishAt") or body.get("unpublishAt")):
        return False
    # unpublishAt must be after publishAt (when that is in the future) and in the future.
    if unpublish is not None:
        floor = datetime.now(timezone.utc)
        if publish is not None and publish > floor:
            floor = publish
        # A second's margin: the request reaches the server a moment after it is generated.
        if (unpublish - floor).total_seconds() <= 1:
            return False
    return True


def _metadata_change_fits(body) -> bool:
    # A key may not be both set and removed.
    set_, remove = body.get("set"), body.get("remove")
    if isinstance(set_, dict) and isinstance(remove, list):
        return not any(isinstance(k, str) and k in set_ for k in remove)
    return True


@schemathesis.hook
def filter_case(ctx, case) -> bool:
    """Applied in every phase (coverage included, which per-component filters do not reach)."""
    label = case.operation.label
    if label in ("GET /media", "GET /catalog") and isinstance(case.query, dict):
        return _query_fits(case.query)
    if label == "POST /media/upload-url" and isinstance(case.body, dict):
        return _upload_fits(case.body) and _release_fits(case.body)
    if label == "PUT /media/{id}/visibility" and isinstance(case.body, dict):
        return _release_fits(case.body)
    if label == "PATCH /media/{id}/metadata" and isinstance(case.body, dict):
        return _metadata_change_fits(case.body)
    return True
