"""cashman_site.renderers.JSONRenderer: DRF's bytes, encoded by orjson, with DRF's as fallback."""

import datetime
import uuid
import zoneinfo
from collections import OrderedDict
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.exceptions import ErrorDetail
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from cashman_site.renderers import JSONRenderer
from conftest import bearer
from ledger.tests.factories import TransactionFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")

VALUES = {
    "plain": {"id": 1, "ok": True, "none": None, "text": "café ünïcode", "list": [1, "a", None]},
    "money": {"amount": Decimal("-20.00"), "big": Decimal("123456789012.34")},
    "utc instant": datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
    "zoneinfo utc": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=zoneinfo.ZoneInfo("UTC")),
    "local instant": datetime.datetime(2026, 7, 1, 12, 0, tzinfo=PARIS),
    "naive instant": datetime.datetime(2026, 7, 1, 12, 0, 0, 5),
    "date": datetime.date(2026, 2, 28),
    "time": datetime.time(23, 59, 1, 250),
    "duration": datetime.timedelta(days=1, seconds=3),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "lazy": gettext_lazy("This field is required."),
    "error detail": {"amount": [ErrorDetail("Too big.", code="max_value")]},
    "return dict": ReturnDict(
        {"a": 1, "b": [ReturnList([1, 2], serializer=None)]}, serializer=None
    ),
    "ordered": OrderedDict([("z", 1), ("a", 2)]),
    "tuple and set": {"tuple": (1, 2), "frozen": frozenset()},
    "number keys": {1: "one", 2.5: "two and a half", False: "no", None: "nothing"},
    "line separators": "a\u2028b\u2029c",
    "escapes": 'quote " backslash \\ newline \n tab \t control \x01',
    "nested": [{"a": [{"b": {"c": [Decimal("1.10")]}}]}],
    "big int": 2**70,
    "bytes": b"raw",
}


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_the_bytes_are_drfs_own(value):
    assert JSONRenderer().render(value) == renderers.JSONRenderer().render(value)


def test_nothing_renders_as_an_empty_body():
    assert JSONRenderer().render(None) == b""


@pytest.mark.parametrize("media_type", ["application/json; indent=4", "application/json; indent=2"])
def test_indented_output_is_drfs(media_type):
    data = {"a": [1, {"b": Decimal("2.50")}]}
    rendered = JSONRenderer().render(data, media_type)
    assert rendered == renderers.JSONRenderer().render(data, media_type)
    assert b"\n" in rendered


def test_an_object_neither_encoder_knows_is_still_an_error():
    with pytest.raises(TypeError):
        JSONRenderer().render({"what": object()})


def test_orjson_does_the_encoding(monkeypatch):
    """Guards the point of the class: DRF's encoder is not silently doing all the work."""

    def refuse(*args, **kwargs):
        raise AssertionError("DRF's renderer was used")

    monkeypatch.setattr(renderers.JSONRenderer, "render", refuse)
    assert JSONRenderer().render({"amount": "1.00", "n": [1]}) == b'{"amount":"1.00","n":[1]}'


@pytest.mark.django_db
def test_the_api_answers_through_it(api_client, user):
    TransactionFactory(owner=user, description="line\u2028break", amount=Decimal("-3.50"))
    response = api_client.get(reverse("api:transaction-list"), HTTP_AUTHORIZATION=bearer(user))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.accepted_renderer, JSONRenderer)
    assert b'"line\\u2028break"' in response.content
    assert response.json()["results"][0]["amount"] == "-3.50"
