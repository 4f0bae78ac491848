"""Schemathesis over the API's own OpenAPI document (/api/v1/openapi.json): generated requests,
valid and not, with a token for a real board; no answer may be a 5xx, and every answer must
match what the document says (status codes, content type, body schema)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.accounts.services import create_token
from app.extensions import db
from tests import factories as make

EXAMPLES = 30  # per operation, per database: bounded, so `make test` stays in its time


@pytest.fixture
def api(app):
    ann = make.user("ann")
    board = make.board(ann, "simple", key="SIM")
    make.member(board, make.user("bob"))
    for title in ("Printer jam", "VPN drops", "Disk full"):
        make.card(board, ann, title)
    token = create_token(ann, "schemathesis")
    db.session.commit()
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    loaded.token = token
    return loaded


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_documented_and_never_with_a_server_error(case, api):
    # Most cases name the real board and card, so the operation itself runs, not only 404.
    if "key" in case.path_parameters:
        case.path_parameters["key"] = "SIM"
    if "card_key" in case.path_parameters:
        case.path_parameters["card_key"] = "SIM-1"
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api.token}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                response_schema_conformance],
    )
