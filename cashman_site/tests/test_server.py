"""The production server (cashman_site/serve.py: granian) keeps each promise production relies on.

Against the real process on a loopback port (marker `server`, SQLite): a request in flight
finishes on SIGTERM and the server exits 0; a hung request gets its worker replaced; SIGHUP under
a stream of requests fails none; the request-line and header limits answer 414/431 (JSON from
Django); X-Forwarded-* mean what they meant under gunicorn; keep-alive; the request log line.
Then the pieces of serve.py in-process: its settings, the watchdog, the WSGI wrapper.
"""

import http.client
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from cashman_site import serve
from cashman_site.serve import (
    RequestSlots,
    RequestWatchdog,
    ServedApplication,
    ServerConfig,
    TrustedPeers,
    parse_bind,
    read_slots,
)
from cashman_site.tests.servers import Server, production_server, wait_until

TEST_SETTINGS = "cashman_site.tests.server_settings"
HTTPS = {"X-Forwarded-Proto": "https"}


def children(pid: int) -> set[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return {int(child) for child in handle.read().split()}
    except FileNotFoundError:
        return set()


def call(
    server: Server,
    method: str,
    path: str,
    headers: dict | None = None,
    *,
    connection: http.client.HTTPConnection | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], bytes]:
    """One request, redirects not followed; (0, {}, b"") when the connection fails."""
    own = connection is None
    if connection is None:
        connection = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=timeout)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except (OSError, http.client.HTTPException):
        return 0, {}, b""
    finally:
        if own:
            connection.close()


def log_lines(server: Server) -> list[dict]:
    lines = []
    for line in server.log.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


@pytest.fixture
def markers(tmp_path) -> Path:
    folder = tmp_path / "markers"
    folder.mkdir()
    return folder


def with_test_views(markers: Path, **env: str) -> dict[str, str]:
    return {"DJANGO_SETTINGS_MODULE": TEST_SETTINGS, "SERVER_TEST_MARKERS": str(markers), **env}


# --- Graceful shutdown, hung requests, reload --------------------------------------------------


@pytest.mark.server
def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(production_site, markers):
    with production_server(production_site, workers=1, **with_test_views(markers)) as server:
        answers: list = []
        client = threading.Thread(
            target=lambda: answers.append(
                call(server, "GET", "/test-only/sleep/?seconds=2&marker=drain")
            )
        )
        client.start()
        wait_until((markers / "drain").exists, timeout=10, what="the slow request to start")
        server.process.send_signal(signal.SIGTERM)
        client.join(timeout=15)
        assert server.process.wait(timeout=15) == 0
    status, _, body = answers[0]
    assert (status, json.loads(body)) == (200, {"slept": 2.0})


@pytest.mark.server
@pytest.mark.parametrize("hang", ["sleep", "spin"], ids=["sleeping", "holding-the-gil"])
def test_a_hung_request_gets_its_worker_replaced(production_site, markers, hang):
    settings = with_test_views(markers, CASHMAN_REQUEST_TIMEOUT="2", CASHMAN_GRACEFUL_TIMEOUT="2")
    with production_server(production_site, workers=1, **settings) as server:
        # Under the timeout: served.
        assert call(server, "GET", "/test-only/sleep/?seconds=0.5")[0] == 200
        (worker,) = children(server.process.pid)
        started = time.monotonic()
        status, _, _ = call(server, "GET", f"/test-only/{hang}/?seconds=60", timeout=30)
        assert status == 0  # the connection was closed, without an answer
        assert time.monotonic() - started < 10
        wait_until(
            lambda: len(children(server.process.pid) - {worker}) == 1,
            timeout=15,
            what="a new worker",
        )
        wait_until(
            lambda: call(server, "GET", "/healthz")[0] == 200, timeout=15, what="being served"
        )
        assert [call(server, "GET", "/healthz")[0] for _ in range(5)] == [200] * 5
        assert server.process.poll() is None
    overrun = [line for line in log_lines(server) if line.get("logger") == "cashman.server"]
    assert any(f"GET /test-only/{hang}/" in line["message"] for line in overrun), overrun


def _migrates_queued_connections() -> bool:
    try:
        with open("/proc/sys/net/ipv4/tcp_migrate_req") as setting:
            return setting.read().strip() == "1"
    except OSError:
        return False


@pytest.mark.server
@pytest.mark.skipif(
    not _migrates_queued_connections(),
    reason="net.ipv4.tcp_migrate_req is not 1: a stopping worker's queued connections are reset "
    "(production sets it, as compose does; .ci/run sets it)",
)
def test_hup_under_a_stream_of_requests_fails_none(production_site, markers):
    settings = with_test_views(markers, CASHMAN_RESPAWN_INTERVAL="1")
    answers: list[int] = []
    stop = threading.Event()
    with production_server(production_site, workers=2, **settings) as server:
        token = server.access_token()

        def reader() -> None:
            while not stop.is_set():
                answers.append(server.request("GET", "/api/v1/summary/", token=token)[0])

        threads = [threading.Thread(target=reader, daemon=True) for _ in range(2)]
        try:
            for thread in threads:
                thread.start()
            wait_until(lambda: len(answers) >= 30, timeout=60, what="requests before HUP")
            before = children(server.process.pid)
            server.process.send_signal(signal.SIGHUP)
            wait_until(
                lambda: (
                    children(server.process.pid).isdisjoint(before)
                    and len(children(server.process.pid)) == 2
                ),
                timeout=60,
                what="both workers replaced",
            )
            served = len(answers)
            wait_until(lambda: len(answers) >= served + 30, timeout=60, what="requests after HUP")
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
    assert set(answers) == {200}, {s: answers.count(s) for s in set(answers)}


# --- Limits, forwarded headers, keep-alive, logs: one server ------------------------------------


@pytest.fixture(scope="module")
def behind_a_proxy(production_site, tmp_path_factory):
    """The server as it runs behind one TLS proxy: HTTPS redirect on, one proxy counted in
    X-Forwarded-For, granian's access log on as well as Django's request log."""
    markers = tmp_path_factory.mktemp("markers")
    settings = with_test_views(
        markers,
        DJANGO_SECURE_SSL_REDIRECT="true",
        CASHMAN_NUM_PROXIES="1",
        CASHMAN_ACCESS_LOG="true",
        CASHMAN_THROTTLE_ANON="1000/min",
    )
    with production_server(production_site, workers=1, **settings) as server:
        yield server


@pytest.mark.server
class TestBehindAProxy:
    def test_a_request_target_over_the_limit_is_414_json(self, behind_a_proxy):
        status, headers, body = call(behind_a_proxy, "GET", "/api/v1/" + "a" * 8200, HTTPS)
        assert status == 414
        assert headers["content-type"] == "application/json"
        assert json.loads(body) == {
            "detail": "The request line is longer than this server accepts."
        }

    def test_a_long_query_is_414_json_too(self, behind_a_proxy):
        status, _, body = call(behind_a_proxy, "GET", "/api/v1/?q=" + "a" * 5000, HTTPS)
        assert status == 414
        assert json.loads(body)["detail"].startswith("The query string is longer")

    def test_a_header_over_the_limit_is_431_json(self, behind_a_proxy):
        status, headers, body = call(
            behind_a_proxy, "GET", "/api/v1/", {**HTTPS, "X-Padding": "x" * 8200}
        )
        assert status == 431
        assert headers["content-type"] == "application/json"
        assert json.loads(body) == {
            "detail": "A request header is larger than this server accepts."
        }

    def test_a_header_at_the_limit_is_served(self, behind_a_proxy):
        status, _, _ = call(behind_a_proxy, "GET", "/api/v1/", {**HTTPS, "X-Padding": "x" * 8190})
        assert status == 401  # reached the view: the API wants a signed-in user

    @pytest.mark.parametrize(
        ("path", "headers"),
        [
            ("/api/v1/" + "a" * 70_000, {}),  # a request line beyond what the server reads
            # Headers far over CASHMAN_MAX_HEADERS_TOTAL_BYTES (64 KiB; hyper checks as it reads).
            ("/api/v1/", {f"X-Pad-{i}": "x" * 8000 for i in range(20)}),
            ("/api/v1/", {f"X-Many-{i}": "1" for i in range(101)}),  # more than 100 headers
        ],
        ids=["request-line", "headers-total", "header-count"],
    )
    def test_what_never_reaches_django_is_refused_by_the_server(
        self, behind_a_proxy, path, headers
    ):
        status, _, _ = call(behind_a_proxy, "GET", path, headers)
        assert status in (414, 431)
        assert call(behind_a_proxy, "GET", "/healthz")[0] == 200

    def test_x_forwarded_proto_https_is_trusted_and_plain_http_redirected(self, behind_a_proxy):
        plain = call(behind_a_proxy, "GET", "/api/v1/")
        assert plain[0] == 301
        assert plain[1]["location"].startswith("https://")
        secure = call(behind_a_proxy, "GET", "/api/v1/", HTTPS)
        assert secure[0] == 401
        assert secure[1]["strict-transport-security"].startswith("max-age=")

    def test_x_forwarded_ssl_from_a_trusted_peer_sets_the_scheme(self, behind_a_proxy):
        # gunicorn's forwarded_allow_ips (default 127.0.0.1,::1) and secure_scheme_headers.
        assert call(behind_a_proxy, "GET", "/api/v1/", {"X-Forwarded-Ssl": "on"})[0] == 401
        contradictory = {"X-Forwarded-Ssl": "on", "X-Forwarded-Proto": "http"}
        assert call(behind_a_proxy, "GET", "/api/v1/", contradictory)[0] == 400

    def test_the_client_address_is_the_one_the_proxy_appended(self, behind_a_proxy):
        def remaining(client: str) -> int:
            status, headers, _ = call(
                behind_a_proxy,
                "POST",
                "/api/v1/auth/token/refresh/",
                {**HTTPS, "X-Forwarded-For": f"198.51.100.7, {client}"},
            )
            assert status == 400, status
            return int(headers["x-ratelimit-remaining"])

        first = remaining("203.0.113.10")
        assert remaining("203.0.113.10") == first - 1
        assert remaining("203.0.113.11") == first  # another address: its own count

    def test_keep_alive_serves_several_requests_on_one_connection(self, behind_a_proxy):
        connection = http.client.HTTPConnection(behind_a_proxy.url.removeprefix("http://"))
        try:
            call(behind_a_proxy, "GET", "/healthz", connection=connection)
            sock = connection.sock
            assert sock is not None
            for _ in range(3):
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
                assert response.status == 200
                assert not response.will_close
            assert connection.sock is sock
        finally:
            connection.close()

    def test_each_request_writes_its_json_log_line_and_an_access_line(self, behind_a_proxy):
        call(behind_a_proxy, "GET", "/api/v1/nope/", {**HTTPS, "X-Request-ID": "log-line-check"})

        def logged() -> list[dict]:
            return [
                line
                for line in log_lines(behind_a_proxy)
                if line.get("request_id") == "log-line-check"
            ]

        (line,) = wait_until(logged, timeout=5, what="the request's log line")
        assert line["logger"] == "cashman.request"
        assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/nope/", 404)

        def access() -> list[dict]:  # granian's, written once the response is sent
            return [
                line
                for line in log_lines(behind_a_proxy)
                if line["logger"] == "granian.access"
                and '"GET /api/v1/nope/ HTTP/1.1" 404' in line["message"]
            ]

        wait_until(access, timeout=5, what="granian's access line")


@pytest.mark.server
def test_forwarded_headers_from_an_untrusted_peer_set_no_scheme(production_site, markers):
    settings = with_test_views(
        markers, DJANGO_SECURE_SSL_REDIRECT="true", FORWARDED_ALLOW_IPS="192.0.2.1"
    )
    with production_server(production_site, workers=1, **settings) as server:
        assert call(server, "GET", "/api/v1/", {"X-Forwarded-Ssl": "on"})[0] == 301
        # Django's own setting (SECURE_PROXY_SSL_HEADER) reads X-Forwarded-Proto from any peer,
        # as it did under gunicorn: the proxy must strip it from clients.
        assert call(server, "GET", "/api/v1/", HTTPS)[0] == 401


# --- In-process: the settings, the watchdog, the WSGI wrapper ----------------------------------


class TestServerConfig:
    def test_defaults(self):
        config = ServerConfig.from_env({})
        assert (config.host, config.port) == ("0.0.0.0", 8000)  # noqa: S104
        assert config.workers >= 1
        assert (config.threads, config.request_timeout, config.graceful_timeout) == (2, 30, 30)

    def test_cashman_variables(self):
        config = ServerConfig.from_env(
            {"CASHMAN_BIND": "127.0.0.1:9000", "CASHMAN_WORKERS": "3", "CASHMAN_THREADS": "4"}
        )
        assert (config.host, config.port, config.workers, config.threads) == (
            "127.0.0.1",
            9000,
            3,
            4,
        )

    def test_gunicorn_variables_are_deprecated_aliases(self, caplog):
        config = ServerConfig.from_env(
            {"GUNICORN_BIND": "127.0.0.1:9001", "GUNICORN_WORKERS": "2", "GUNICORN_TIMEOUT": "7"}
        )
        assert (config.port, config.workers, config.request_timeout) == (9001, 2, 7)
        assert "GUNICORN_BIND is deprecated: set CASHMAN_BIND instead" in caplog.text

    def test_the_new_name_wins(self):
        env = {"CASHMAN_WORKERS": "3", "GUNICORN_WORKERS": "5"}
        assert ServerConfig.from_env(env).workers == 3

    @pytest.mark.parametrize(
        ("bind", "expected"),
        [
            ("[::1]:8080", ("::1", 8080)),
            (":8000", ("0.0.0.0", 8000)),  # noqa: S104
            ("localhost:1", ("127.0.0.1", 1)),
        ],
    )
    def test_bind_forms(self, bind, expected):
        assert parse_bind(bind) == expected

    @pytest.mark.parametrize("bind", ["8000", "host:port", "example.com:80"])
    def test_a_bad_bind_stops_the_server(self, bind):
        with pytest.raises(SystemExit):
            parse_bind(bind)

    def test_a_bad_number_stops_the_server(self):
        with pytest.raises(SystemExit, match="CASHMAN_WORKERS"):
            ServerConfig.from_env({"CASHMAN_WORKERS": "many"})


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TestRequestWatchdog:
    def watchdog(
        self, tmp_path, sent: list, workers: set[int]
    ) -> tuple[RequestWatchdog, FakeClock]:
        clock = FakeClock()
        dog = RequestWatchdog(
            tmp_path,
            timeout=30,
            grace=10,
            is_worker=lambda pid: pid in workers,
            send=lambda pid, signum: sent.append((pid, signum)),
            clock=clock,
        )
        return dog, clock

    def test_a_request_under_the_timeout_is_left_alone(self, tmp_path):
        sent: list = []
        slots = RequestSlots(tmp_path / "41.slots", count=4)
        slots.enter("GET /fast/")
        dog, clock = self.watchdog(tmp_path, sent, {41})
        dog.check()
        clock.now += 29
        dog.check()
        assert sent == []

    def test_an_overrun_asks_the_worker_to_stop_then_kills_it_once_the_rest_is_done(self, tmp_path):
        sent: list = []
        slots = RequestSlots(tmp_path / "42.slots", count=4)
        slots.enter("GET /hung/")
        dog, clock = self.watchdog(tmp_path, sent, {42})
        dog.check()
        clock.now += 20
        other = slots.enter("GET /other/")
        dog.check()
        clock.now += 10
        dog.check()
        assert sent == [(42, signal.SIGTERM)]  # the other request may still finish
        clock.now += 1
        dog.check()
        assert sent == [(42, signal.SIGTERM)]
        slots.leave(other)
        clock.now += 1
        dog.check()
        assert sent == [(42, signal.SIGTERM), (42, signal.SIGKILL)]

    def test_a_worker_that_does_not_drain_is_killed_after_the_grace(self, tmp_path):
        sent: list = []
        slots = RequestSlots(tmp_path / "43.slots", count=4)
        slots.enter("GET /hung/")
        dog, clock = self.watchdog(tmp_path, sent, {43})
        dog.check()
        clock.now += 25
        slots.enter("GET /slow/")
        clock.now += 5
        dog.check()
        clock.now += 9
        dog.check()
        assert sent == [(43, signal.SIGTERM)]
        clock.now += 1
        dog.check()
        assert sent[-1] == (43, signal.SIGKILL)

    def test_the_next_request_in_a_slot_starts_its_own_count(self, tmp_path):
        sent: list = []
        slots = RequestSlots(tmp_path / "44.slots", count=1)
        dog, clock = self.watchdog(tmp_path, sent, {44})
        for _ in range(5):
            slot = slots.enter("GET /short/")
            dog.check()
            clock.now += 20
            dog.check()
            slots.leave(slot)
        assert sent == []

    def test_the_files_of_gone_workers_are_removed(self, tmp_path):
        RequestSlots(tmp_path / "45.slots", count=1).enter("GET /x/")
        dog, _ = self.watchdog(tmp_path, [], set())
        dog.check()
        assert not (tmp_path / "45.slots").exists()

    def test_slots_record_method_and_path(self, tmp_path):
        slots = RequestSlots(tmp_path / "46.slots", count=2)
        first = slots.enter("GET /a/")
        slots.enter("POST /b/")
        slots.leave(first)
        assert [(label) for _, _, label in read_slots(tmp_path / "46.slots")] == ["POST /b/"]


def wsgi_call(app, environ: dict) -> tuple[str, bytes, dict]:
    started: list = []
    body = b"".join(app(environ, lambda status, headers: started.append(status)))
    return started[0], body, environ


def echo(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["wsgi.url_scheme"].encode()]


class TestServedApplication:
    def environ(self, **extra) -> dict:
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            **extra,
        }

    def app(self, **kwargs) -> ServedApplication:
        kwargs.setdefault("trusted", TrustedPeers("127.0.0.1,::1"))
        kwargs.setdefault("process_env", {})
        return ServedApplication(echo, **kwargs)

    @pytest.mark.parametrize(
        "header",
        [
            {"HTTP_X_FORWARDED_PROTO": "https"},
            {"HTTP_X_FORWARDED_SSL": "on"},
            {"HTTP_X_FORWARDED_PROTOCOL": "ssl"},
        ],
    )
    def test_a_trusted_peer_sets_the_scheme(self, header):
        assert wsgi_call(self.app(), self.environ(**header))[1] == b"https"

    def test_an_untrusted_peer_does_not(self):
        environ = self.environ(REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_SSL="on")
        assert wsgi_call(self.app(), environ)[1] == b"http"

    def test_networks_and_anyone(self):
        environ = self.environ(REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_SSL="on")
        assert wsgi_call(self.app(trusted=TrustedPeers("10.0.0.0/8")), environ)[1] == b"https"
        environ = self.environ(REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_SSL="on")
        assert wsgi_call(self.app(trusted=TrustedPeers("*")), environ)[1] == b"https"

    def test_contradictory_scheme_headers_are_a_400(self):
        environ = self.environ(HTTP_X_FORWARDED_PROTO="http", HTTP_X_FORWARDED_SSL="on")
        status, body, _ = wsgi_call(self.app(), environ)
        assert status == "400 Bad Request"
        assert b"contradictory" in body

    def test_the_process_environment_stays_out_of_the_request(self):
        process = {"DATABASE_URL": "postgres://secret@db/x", "HTTP_PROXY": "http://proxy"}
        environ = self.environ(DATABASE_URL="postgres://secret@db/x", HTTP_PROXY="http://sent")
        _, _, seen = wsgi_call(self.app(process_env=process), environ)
        assert "DATABASE_URL" not in seen
        assert seen["HTTP_PROXY"] == "http://sent"  # the request's own header stays

    def test_a_streamed_response_holds_its_slot_until_it_is_closed(self, tmp_path):
        slots = RequestSlots(tmp_path / f"{os.getpid()}.slots", count=2)
        app = self.app(slots=slots)
        result = app(self.environ(PATH_INFO="/x/"), lambda status, headers: None)
        assert [label for _, _, label in read_slots(slots.path)] == ["GET /x/"]
        assert list(result) == [b"http"]
        result.close()  # type: ignore[attr-defined]
        assert read_slots(slots.path) == []

    def test_a_response_in_memory_is_handed_over_whole_and_closed(self, tmp_path):
        closed: list = []

        class Response:  # what the wrapper reads of Django's HttpResponse
            streaming = False
            content = b"whole body"

            def __iter__(self):
                raise AssertionError("iterated: should have been handed over whole")

            def close(self):
                closed.append(True)

        response = Response()
        slots = RequestSlots(tmp_path / f"{os.getpid()}.slots", count=2)
        app = ServedApplication(
            lambda environ, start_response: response,
            trusted=TrustedPeers(""),
            slots=slots,
            process_env={},
        )
        assert app(self.environ(), lambda status, headers: None) == [b"whole body"]
        assert closed == [True]
        assert read_slots(slots.path) == []


@pytest.mark.django_db
class TestLimitsInProcess:
    def test_a_long_path_is_414_json(self, client):
        response = client.get("/api/v1/" + "a" * 8200)
        assert response.status_code == 414
        assert response.json() == {"detail": "The request line is longer than this server accepts."}

    def test_a_long_path_outside_the_api_is_plain_text(self, client):
        response = client.get("/admin/" + "a" * 8200)
        assert response.status_code == 414
        assert response["Content-Type"].startswith("text/plain")

    def test_a_large_header_is_431_json(self, client, settings):
        settings.CASHMAN_MAX_HEADER_BYTES = 100
        response = client.get("/api/v1/", HTTP_X_PADDING="x" * 101)
        assert response.status_code == 431
        assert response.json() == {"detail": "A request header is larger than this server accepts."}
        assert client.get("/api/v1/", HTTP_X_PADDING="x" * 100).status_code == 401


def test_the_reload_fix_is_written_for_the_installed_granian():
    # On a new granian: read CashmanServer (cashman_site/serve.py) against its Server, run the
    # HUP test above, then raise GRANIAN_WRITTEN_FOR.
    assert serve.granian_written_for(), serve.GRANIAN_WRITTEN_FOR
