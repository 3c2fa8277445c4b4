"""A property-based run of schemathesis against our own OpenAPI schema: whatever it sends to
any endpoint, with a valid token, the API answers without a server error."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from .conftest import write_tree


@pytest.fixture
def token(archive, tmp_path):
    archive.json("ingest", write_tree(tmp_path / "sip", {"rede.txt": "Rede", "a/b.txt": "B"}))
    code, out, err = archive(
        "user", "create", "anna", "--tenant", "stadt", "--role", "archivist", "--token", "--json"
    )
    assert code == 0, err
    return json.loads(out)["token"]


@pytest.fixture
def api_schema(token):
    from magazin.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, token):
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
