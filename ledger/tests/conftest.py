import datetime
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ledger.tests.factories import CategoryFactory, TransactionFactory


@pytest.fixture
def make_tx(user):
    """Create a transaction made by `user` (or `owner=`) in their personal ledger's "Main"
    account (or in `account=`), sign applied as the service would."""

    def make(**kwargs):
        kwargs.setdefault("owner", user)
        return TransactionFactory(**kwargs)

    return make


@pytest.fixture
def category(user):
    """A category of `user`'s personal ledger."""
    return CategoryFactory(owner=user, name="Food")


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """POST a file to imports/. The test's transaction never commits, so what the upload queues
    on commit runs here, as the request's real commit would (in-process: no broker is set)."""

    def post(client, content, name="bank.csv", **headers):
        data = content.encode() if isinstance(content, str) else content
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("api:import-list"),
                {"file": SimpleUploadedFile(name, data)},
                format="multipart",
                **headers,
            )

    return post


@pytest.fixture
def ledger_cache(settings):
    """The ledger cache on, as with Redis in production (it is off by default without it)."""
    settings.CASHMAN_LEDGER_CACHE_SECONDS = 300


@pytest.fixture
def clock(time_machine, settings):
    """Move the clock (tick=False) to a day (noon there) or an instant, in DJANGO_TIME_ZONE
    `zone` when given."""

    def move(when: datetime.date | datetime.datetime, zone: str | None = None) -> None:
        if zone is not None:
            settings.TIME_ZONE = zone
        if not isinstance(when, datetime.datetime):
            when = datetime.datetime.combine(
                when, datetime.time(12), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)
            )
        time_machine.move_to(when, tick=False)

    return move
