"""BENCH_SERVER: which server the harness starts Cashman under, and how (nothing is started)."""

import pytest

from bench import server


def test_granian_the_production_server_is_the_default(monkeypatch, tmp_path):
    monkeypatch.delenv("BENCH_SERVER", raising=False)
    monkeypatch.delenv("BENCH_SERVER_THREADS", raising=False)
    cashman = server.Server({}, tmp_path / "log", workers=3)
    assert cashman.kind == "granian"
    assert cashman.command[-2:] == ["-m", "cashman_site.serve"]
    assert cashman.env["CASHMAN_BIND"] == f"127.0.0.1:{cashman.port}"
    assert cashman.env["CASHMAN_WORKERS"] == "3"
    assert cashman.env["CASHMAN_REQUEST_TIMEOUT"] == "600"  # imports run in the request
    assert "CASHMAN_THREADS" not in cashman.env  # the server's default


@pytest.mark.parametrize(
    ("kind", "threads"), [("gunicorn-sync", "--threads=1"), ("gunicorn-gthread", "--threads=4")]
)
def test_gunicorn_to_compare(monkeypatch, tmp_path, kind, threads):
    monkeypatch.setenv("BENCH_SERVER", kind)
    monkeypatch.delenv("BENCH_SERVER_THREADS", raising=False)
    cashman = server.Server({}, tmp_path / "log")
    assert cashman.command[1] == "cashman_site.wsgi:application"
    assert f"--bind=127.0.0.1:{cashman.port}" in cashman.command
    assert threads in cashman.command
    assert "--timeout=600" in cashman.command
    assert not any(
        name.startswith("CASHMAN_") for name in cashman.env if name != "CASHMAN_FAST_PATHS"
    )


def test_threads_and_an_unknown_server(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_SERVER_THREADS", "3")
    assert server.Server({}, tmp_path / "log", kind="granian").env["CASHMAN_THREADS"] == "3"
    monkeypatch.setenv("BENCH_SERVER", "uwsgi")
    with pytest.raises(ValueError, match="BENCH_SERVER='uwsgi'"):
        server.Server({}, tmp_path / "log")
