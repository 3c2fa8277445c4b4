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
    """The schema of the WSGI application; as in Django's test client, requests do not close
    the test's database connection (it holds the test transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from magazin.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, token):
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])


def test_nul_characters_are_a_bad_request(token, client):
    h = {"HTTP_AUTHORIZATION": f"Token {token}"}
    assert client.get("/api/units/?fonds=%00", **h).status_code == 400
    assert client.get("/api/units/stadt-%00/", **h).status_code == 400
    assert client.get("/api/units/?fonds=OB-Reden", **h).status_code == 200
