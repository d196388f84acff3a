import pytest

from bench import config


class TestDatabaseGuard:
    @pytest.mark.parametrize(
        "url",
        [
            "postgres://postgres@127.0.0.1:5432/cashman_bench",
            "postgresql://u:p@db:5432/cashman_bench_smoke",
        ],
    )
    def test_accepts_a_bench_database(self, url):
        assert config.check_database_url(url) == url

    @pytest.mark.parametrize(
        "url",
        [
            "postgres://postgres@127.0.0.1:5432/cashman",
            "postgres://postgres@127.0.0.1:5432/cashman_ci",
            "postgres://bench@bench-host:5432/production",
        ],
    )
    def test_refuses_any_other_database(self, url):
        with pytest.raises(config.UnsafeDatabase, match="must contain 'bench'"):
            config.check_database_url(url)

    def test_refuses_sqlite(self):
        with pytest.raises(config.UnsafeDatabase, match="needs PostgreSQL"):
            config.check_database_url("sqlite:///bench.sqlite3")

    def test_load_refuses_an_unsafe_database_url(self, monkeypatch):
        monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)
        monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cashman")
        with pytest.raises(config.UnsafeDatabase):
            config.load()

    def test_smoke_uses_its_own_database_whatever_database_url_says(self, monkeypatch):
        monkeypatch.delenv("BENCH_SMOKE_DATABASE_URL", raising=False)
        monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cashman_bench")
        cfg = config.load(smoke=True)
        assert config.database_name(cfg.database_url) == "cashman_bench_smoke"
        assert (cfg.users, cfg.rounds) == (20, 1)

    def test_results_never_hold_the_database_password(self, monkeypatch):
        monkeypatch.setenv("BENCH_DATABASE_URL", "postgres://u:secret@db:5432/x_bench")
        assert "secret" not in str(config.load().as_dict())
