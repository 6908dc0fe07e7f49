"""How an API server's refusal is shown: the Status message (cut at 300 characters), else the
raw body (cut at 200), else the HTTP reason; always one line."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException
from rayfleet.kube.client import _status_message


def _exc(body: object, reason: str = "Forbidden") -> ApiException:
    exc = ApiException(status=403, reason=reason)
    exc.body = body
    return exc


@pytest.mark.parametrize(("length", "shown"), [(199, 199), (200, 200), (201, 200), (500, 200)])
def test_a_body_that_is_not_json_is_cut_at_200_characters(length: int, shown: int):
    message = _status_message(_exc(("y" * 50 + "\n") * (length // 51) + "z" * (length % 51)))
    assert len(message) == shown and "\n" not in message


@pytest.mark.parametrize(("length", "shown"), [(299, 299), (300, 300), (301, 300)])
def test_a_status_message_is_cut_at_300_characters(length: int, shown: int):
    body = json.dumps({"kind": "Status", "message": "m" * length}).encode()
    assert len(_status_message(_exc(body))) == shown


def test_without_a_body_the_reason_is_shown():
    assert _status_message(_exc(None)) == "Forbidden"
    assert _status_message(_exc("  ")) == "Forbidden"
    assert _status_message(_exc(json.dumps({"kind": "Status"}))) == "Forbidden"
    assert _status_message(_exc(json.dumps({"message": 'namespaces "ray"\n is forbidden'}))) == \
        'namespaces "ray" is forbidden'
