"""The production server with the production settings while Redis (cache, throttles and broker) or only the
Celery broker does not answer: every request is answered from the database with what really
happened, and the work that could not be queued is done once the broker is back.

"Does not answer" is a real refusal: the URLs name a loopback port nothing listens on.
"""

import contextlib
import json
import secrets
import socket
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from cashman_site.tests.servers import Server, Site, free_port, production_server

pytestmark = pytest.mark.server

PASSWORD = "a-long-Passphrase-42"
CSV = b"date,description,amount\n2026-11-01,Salary,3000\n2026-11-02,Rent,-900\n"


def upload(server: Server, token: str, content: bytes) -> tuple[int, dict]:
    boundary = secrets.token_hex(16)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bank.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        server.url + "/api/v1/imports/",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def sign_up(server: Server) -> tuple[str, str]:
    """Register a new account and log in: (email, access token)."""
    email = f"outage-{secrets.token_hex(4)}@example.com"
    status, _, body = server.request(
        "POST", "/api/v1/auth/register/", {"email": email, "password": PASSWORD}
    )
    assert status == 201, body
    status, _, body = server.request(
        "POST", "/api/v1/auth/token/", {"email": email, "password": PASSWORD}
    )
    assert status == 200, body
    return email, json.loads(body)["access"]


def get(server: Server, path: str, token: str) -> tuple[int, object]:
    status, headers, body = server.request(
        "GET", path, headers={"Authorization": f"Bearer {token}"}
    )
    ctype = headers.get("Content-Type", "")
    return status, json.loads(body) if ctype.startswith("application/json") else body


def media(site: Site) -> dict[str, str]:
    return {"DJANGO_MEDIA_ROOT": str(site.root / "media")}


def test_with_redis_down_every_request_is_answered_and_imports_wait(production_site):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # cache, throttles and broker alike
    with production_server(
        production_site, workers=1, REDIS_URL=nowhere, **media(production_site)
    ) as s:
        email, token = sign_up(s)
        auth = {"Authorization": f"Bearer {token}"}
        status, _, body = s.request(
            "POST", "/api/v1/expenses/", {"description": "lunch", "amount": "12.50"}, auth
        )
        assert status == 201, body
        for path in ("/api/v1/transactions/", "/api/v1/summary/", "/api/v1/summary/monthly/"):
            assert get(s, path, token)[0] == 200, path
        assert get(s, "/api/v1/summary/", token)[1]["expense"] == "-12.50"
        status, csv = get(s, "/api/v1/export/?format=csv", token)
        assert status == 200 and b"lunch" in csv

        status, job = upload(s, token, CSV)
        assert status == 202, job
        assert get(s, f"/api/v1/imports/{job['id']}/", token)[1]["status"] == "pending"

        status, ready = get(s, "/readyz", token)
        assert (status, ready["status"], ready["checks"]["cache"]) == (
            200,
            "degraded",
            "unavailable",
        )
        log = s.log.read_text()
        assert "Traceback" not in log and '"status": 500' not in log

    # Back with a broker (here, none: the sweeper runs the job in-process, as for cron users).
    # A negative wait takes every pending job whatever this process's clock says (under
    # libfaketime each process's clock starts anew at the same instant).
    out = production_site.manage(
        "recover_imports", CASHMAN_IMPORT_REQUEUE_SECONDS="-86400", **media(production_site)
    )
    assert out.strip().endswith(" queued.") and not out.startswith("0 ")
    with production_server(production_site, workers=1, **media(production_site)) as s:
        token = json.loads(
            s.request("POST", "/api/v1/auth/token/", {"email": email, "password": PASSWORD})[2]
        )["access"]
        done = get(s, f"/api/v1/imports/{job['id']}/", token)[1]
        assert (done["status"], done["created_count"]) == ("succeeded", 2)
        assert get(s, "/api/v1/summary/", token)[1]["balance"] == "2087.50"


def test_with_only_the_broker_down_the_answers_say_what_happened(production_site):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    with production_server(
        production_site, workers=1, CELERY_BROKER_URL=nowhere, **media(production_site)
    ) as s:
        _, token = sign_up(s)  # 201: the account exists, its welcome email waits
        first = upload(s, token, CSV)
        assert first[0] == 202, first
        jobs = get(s, "/api/v1/imports/", token)[1]
        assert jobs["count"] == 1  # one job recorded: no orphan, no error to retry
        assert jobs["results"][0]["status"] == "pending"
        assert "Traceback" not in s.log.read_text()


@contextlib.contextmanager
def hanging_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers: a hung Redis."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def test_with_a_broker_that_hangs_registrations_are_still_answered(production_site):
    """Without socket timeouts, publishing to a broker that accepts and never answers waits
    forever: the watchdog ends the worker and the client gets no answer. With them, the first
    request waits out the timeout and the next ones skip the broker for a few seconds."""
    with hanging_port() as port:
        nowhere = f"redis://127.0.0.1:{port}/0"
        with production_server(
            production_site, workers=1, CELERY_BROKER_URL=nowhere, **media(production_site)
        ) as s:
            for _ in range(3):
                _, token = sign_up(s)
                assert get(s, "/api/v1/auth/me/", token)[0] == 200
            assert '"status": 500' not in s.log.read_text()
