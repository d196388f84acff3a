"""The production server in front of a real PostgreSQL that goes away and comes back, and a graceful
reload under load. These start their own processes; they run in the PostgreSQL CI pass."""

import os
import signal
import threading
import time

import psycopg2
import pytest

from cashman_site.tests.servers import (
    PrivatePostgres,
    Server,
    Site,
    postgres_bindir,
    production_server,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.server]

# How long a request may take while the database is down: it is refused at once, so the answer
# comes well inside the connect timeout (DJANGO_DB_CONNECT_TIMEOUT, 2 s here).
OUTAGE_ANSWER_BOUND = 3.0


@pytest.fixture
def private_postgres():
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("needs PostgreSQL's server binaries (initdb, pg_ctl)")
    cluster = PrivatePostgres(bindir)
    cluster.init()
    yield cluster
    cluster.destroy()


class Load:
    """One client thread creating expenses back to back, recording every answer."""

    def __init__(self, server: Server, token: str) -> None:
        self.server, self.token = server, token
        self.answers: list[tuple[str, int, dict | None, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            description = f"load {n}"
            started = time.monotonic()
            answer = self.server.request(
                "POST",
                "/api/v1/expenses/",
                {"description": description, "amount": "1.00"},
                token=self.token,
                timeout=15,
            )
            elapsed = time.monotonic() - started
            self.answers.append((description, answer.status, answer.json(), elapsed))

    def start(self) -> "Load":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def count(self, status: int) -> int:
        return sum(1 for answer in self.answers if answer[1] == status)


def test_database_outage_gives_prompt_503s_and_recovers_without_a_restart(
    private_postgres, tmp_path
):
    site = Site(tmp_path, private_postgres.url, {"DJANGO_DB_CONNECT_TIMEOUT": "2"})
    site.manage("migrate", "--noinput")
    token = site.user_token("outage@example.com")
    with production_server(site, workers=2) as server:
        load = Load(server, token).start()
        wait_until(lambda: load.count(201) >= 20, timeout=60, what="writes before the outage")

        private_postgres.stop()
        before_outage = len(load.answers)
        wait_until(lambda: load.count(503) >= 20, timeout=60, what="503s during the outage")
        ready = server.request("GET", "/readyz", timeout=5)
        assert ready.status == 503
        assert ready.json()["checks"]["database"] == "unavailable"

        private_postgres.start()
        during = load.answers[before_outage:]
        wait_until(
            lambda: load.count(201) >= 20 + sum(1 for a in during if a[1] == 201) + 20,
            timeout=60,
            what="writes after the database came back",
        )
        load.stop()
        assert server.request("GET", "/readyz", timeout=5).status == 200
        assert server.process.poll() is None, "the server was not restarted"

    statuses = {answer[1] for answer in load.answers}
    assert statuses <= {201, 503}, (statuses, server.log.read_text()[-3000:])
    outage = [answer for answer in load.answers if answer[1] == 503]
    assert all(
        answer[2] == {"detail": "The database is unavailable. Retry in a few seconds."}
        for answer in outage
    )
    slowest = max(answer[3] for answer in outage)
    assert slowest < OUTAGE_ANSWER_BOUND, slowest

    answered = {answer[0] for answer in load.answers if answer[1] == 201}
    with psycopg2.connect(private_postgres.url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT description FROM ledger_transaction")
        stored = {row[0] for row in cursor.fetchall()}
    assert answered <= stored, sorted(answered - stored)[:10]


def test_hup_under_load_drops_no_request(tmp_path):
    site = Site(tmp_path, f"sqlite:///{tmp_path / 'hup.sqlite3'}")
    site.manage("migrate", "--noinput")
    token = site.user_token("hup@example.com")
    answers: list[int] = []
    stop = threading.Event()
    with production_server(site, workers=2) as server:

        def reader() -> None:
            while not stop.is_set():
                answers.append(server.request("GET", "/api/v1/summary/", token=token, timeout=5)[0])

        threads = [threading.Thread(target=reader, daemon=True) for _ in range(4)]
        try:
            for thread in threads:
                thread.start()
            wait_until(lambda: len(answers) >= 100, timeout=60, what="requests before HUP")
            workers_before = _children(server.process.pid)
            os.kill(server.process.pid, signal.SIGHUP)
            wait_until(
                lambda: (
                    _children(server.process.pid).isdisjoint(workers_before)
                    and len(_children(server.process.pid)) == 2
                ),
                timeout=60,
                what="new workers after HUP",
            )
            served = len(answers)
            wait_until(lambda: len(answers) >= served + 100, timeout=60, what="requests after HUP")
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
    assert set(answers) == {200}, {s: answers.count(s) for s in set(answers)}


def _children(pid: int) -> set[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return {int(child) for child in handle.read().split()}
    except FileNotFoundError:
        return set()
