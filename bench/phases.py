"""The run itself: prepare the database, capture the SQL, mint tokens, then one gunicorn server
per phase (cache off; cache on; a fresh one for export and import), each scenario measured
against its floors and the lean peers (bench/peers/, started beside it) in alternating rounds."""

import datetime
import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import django
from django.core.management import call_command

from bench import load, seed, sqlcapture
from bench.config import Config
from bench.peers.servers import PeerServer
from bench.scenarios import IMPORTS, Scenario, create_body, export_path, load_scenarios
from bench.server import RssSampler, Server


class Run:
    def __init__(self, cfg: Config, env: dict, tmp: Path, results: dict, log) -> None:
        self.cfg, self.env, self.tmp, self.results, self.log = cfg, env, tmp, results, log
        self.layout = seed.layout_of(cfg)
        self.today = datetime.date.today()
        self.users_file = tmp / "users.txt"
        self.body_file = tmp / "create.json"
        self.tokens: dict[int, str] = {}
        # The users the load rotates over, by the number of ledgers each is in; the last one of
        # each is the capture user of the scenarios of that kind, the first one the preflight's.
        self.rotations: dict[int, list[int]] = {}
        self.users_files: dict[int, Path] = {}
        self.orm_same_sql: dict[str, bool] = {}
        self.scripts: dict[str, str] = {}
        # The lean peers of the current phase (bench/peers/), by name, in measuring order.
        self.peers: dict[str, PeerServer] = {}

    # --- preparation ---------------------------------------------------------------------------

    def prepare(self) -> None:
        if seed.ensure_database(self.cfg.database_url):
            self.log("created the database")
        django.setup()
        call_command("migrate", "--noinput", verbosity=0)
        self.conn = seed.connect(self.cfg.database_url)
        if seed.is_seeded(self.conn, self.layout):
            self.log(f"already seeded: {self.layout.marker()}")
        else:
            self.log(f"seeding {self.layout.marker()} ...")
            done = seed.seed(self.conn, self.layout, today=self.today)
            self.log(f"seeded {done['transactions']:,} transactions in {done['seconds']} s")
            self.results["meta"]["seed_seconds"] = done["seconds"]
        seed.reset_run_rows(self.conn, self.layout)
        self.mint_tokens()
        self.capture()

    def mint_tokens(self) -> None:
        from rest_framework_simplejwt.tokens import AccessToken

        from accounts.models import User
        from accounts.tokens import GENERATION_CLAIM

        self.token_users = min(self.cfg.token_users, self.layout.users)
        multi = self.layout.multi_user_ids
        self.rotations = {
            1: list(range(1, self.token_users + 1)),
            seed.MULTI_LEDGERS: list(multi[: min(self.cfg.token_users, len(multi))]),
        }
        wanted = [
            *(uid for users in self.rotations.values() for uid in users),
            self.layout.export_user,
            self.layout.import_user,
        ]
        for user in User.objects.filter(pk__in=wanted):
            token = AccessToken.for_user(user)
            token[GENERATION_CLAIM] = user.token_generation
            self.tokens[user.pk] = str(token)
        for ledgers, users in self.rotations.items():
            path = self.users_file if ledgers == 1 else self.tmp / f"users-{ledgers}-ledgers.txt"
            path.write_text("".join(f"{uid} {self.tokens[uid]}\n" for uid in users))
            self.users_files[ledgers] = path
        self.log(f"minted {len(self.tokens)} access tokens")

    def capture_user(self, scenario: Scenario) -> int:
        return self.rotations[scenario.ledgers][-1]

    def first_user(self, scenario: Scenario) -> int:
        return self.rotations[scenario.ledgers][0]

    def capture(self) -> None:
        from django.test import Client, override_settings

        from bench import floors

        uid = self.token_users
        client = Client()
        captures = {}
        body = create_body(self.today)
        self.body_file.write_text(json.dumps(body))
        wanted = [
            (s.floor if not s.warm_capture else s.name, s) for s in load_scenarios(self.today)
        ]
        for name, scenario in wanted:
            user = self.capture_user(scenario)
            # The ORM floor under the scenario's cache setting too, as its server runs it: with
            # the cache on, both read the user's ledgers from it.
            with override_settings(CASHMAN_LEDGER_CACHE_SECONDS=300 if scenario.cache else 0):
                if scenario.warm_capture:
                    client.get(scenario.path, HTTP_AUTHORIZATION=f"Bearer {self.tokens[user]}")
                captures[name], response = sqlcapture.capture(
                    client,
                    name,
                    scenario.method,
                    scenario.path,
                    uid=user,
                    token=self.tokens[user],
                    body=body if scenario.method == "POST" else None,
                    ledgers=self.layout.ledgers_of(user),
                )
                if response.status_code not in (200, 201):
                    raise RuntimeError(f"capture of {name}: {response.status_code}")
                if name in floors.ORM_FLOORS:
                    self.orm_same_sql[name] = self.orm_matches(client, captures[name], scenario)
        for kind in ("csv", "json"):
            captures[f"export_{kind}"], _ = sqlcapture.capture(
                client, f"export_{kind}", "GET", export_path(kind), uid=uid, token=self.tokens[uid]
            )
        sqlcapture.save(captures, Path(self.env["BENCH_SQL_FILE"]), uid=uid)
        self.captures = captures
        with self.conn.cursor() as cursor:
            for name, scenario in wanted:
                users = self.rotations[scenario.ledgers]
                self.scripts[name] = sqlcapture.pgbench_script(
                    captures[name],
                    cursor,
                    users=users[-1],
                    first_user=users[0],
                    ledgers=self.layout.pgbench_ledgers() if scenario.ledgers > 1 else (),
                )
        self.conn.rollback()
        self.log(
            "captured: " + ", ".join(f"{k} ({len(c.statements)} SQL)" for k, c in captures.items())
        )

    def orm_matches(self, client, cashman: sqlcapture.Capture, scenario: Scenario) -> bool:
        """Whether the ORM floor issues the statements Cashman issued for this scenario."""
        from bench import floors

        orm, answer = sqlcapture.capture(
            client,
            cashman.name,
            scenario.method,
            floors.orm_path(scenario.path, cashman.name),
            uid=self.capture_user(scenario),
            body=json.loads(self.body_file.read_text()) if scenario.method == "POST" else None,
        )
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"ORM floor of {cashman.name}: {answer.status_code}")
        return floors.orm_statements_match(cashman, orm)

    # --- servers -----------------------------------------------------------------------------

    def server(self, *, cache: bool, label: str) -> Server:
        env = {**self.env, "CASHMAN_LEDGER_CACHE_SECONDS": "300" if cache else "0"}
        server = Server(env, self.tmp / f"gunicorn-{label}.log", workers=self.cfg.workers)
        server.start()
        workers = len(server.worker_pids())
        self.results["meta"]["workers"] = workers
        self.results["meta"]["threads"] = server.threads
        self.log(
            f"{getattr(server, 'kind', 'gunicorn')} ({label}, {workers} workers) on {server.url}"
        )
        return server

    def start_peers(self, stack: ExitStack) -> None:
        """The lean peers, once for the run (they keep no cache: Cashman's phases change nothing
        for them), with as many workers as Cashman's server has; `stack` stops them. They read
        the captured SQL, the key simplejwt signs with and the create's body."""
        from rest_framework_simplejwt.settings import api_settings

        env = {
            "DATABASE_URL": self.cfg.database_url,
            "JWT_SIGNING_KEY": api_settings.SIGNING_KEY,
            "BENCH_SQL_FILE": self.env["BENCH_SQL_FILE"],
            "BENCH_CREATE_BODY": self.body_file.read_text(),
        }
        workers, threads = self.results["meta"]["workers"], self.results["meta"]["threads"]
        peers = {
            name: PeerServer(name, env, self.tmp / f"{name}.log", workers, threads)
            for name in self.cfg.peers
        }
        for peer in peers.values():
            stack.callback(peer.stop)
            peer.launch()
        for peer in peers.values():
            peer.wait()
            self.log(f"{peer.label} peer ({workers} workers) on {peer.url}")
        self.peers = peers

    def jwt(self, uid: int) -> dict:
        return {"Authorization": f"Bearer {self.tokens[uid]}"}

    # --- request scenarios (wrk) ---------------------------------------------------------------

    def wrk(
        self,
        server: Server | PeerServer,
        url_path: str,
        mode: str,
        method: str,
        duration: float,
        *,
        ledgers: int = 1,
        connections: int | None = None,
    ) -> dict:
        return load.wrk(
            server.url + url_path,
            users_file=self.users_files[ledgers],
            mode=mode,
            method=method,
            body_file=self.body_file if method == "POST" else None,
            duration=duration,
            connections=connections or self.cfg.connections,
            threads=self.cfg.threads,
        )

    def preflight(self, server: Server, scenario: Scenario) -> dict:
        """One request to Cashman and one to each floor view and peer, as the first user of the
        scenario's rotation (user 1, or the first user in 3 ledgers); a floor's rows must be
        Cashman's, and a peer's answer Cashman's JSON (`same_json`)."""
        from bench import floors

        data = self.body_file.read_bytes() if scenario.method == "POST" else None
        headers = {"Content-Type": "application/json"} if data else {}

        def fetch(path: str, auth: dict, at: Server | PeerServer = server) -> object:
            with load.request(
                at.url + path, headers={**headers, **auth}, method=scenario.method, data=data
            ) as answer:
                return json.loads(answer.read())

        user = self.first_user(scenario)
        mine = fetch(scenario.path, self.jwt(user))
        floor_paths = {"floor": f"/bench/floor/{scenario.floor}/"}
        if scenario.floor in floors.ORM_FLOORS:
            floor_paths["orm_floor"] = floors.orm_path(scenario.path, scenario.floor)
        checks = {}
        for label, path in floor_paths.items():
            floor = fetch(path, {"X-Bench-User": str(user)})
            if isinstance(mine, dict) and "results" in mine:
                assert isinstance(floor, dict)
                checks[f"{label}_same_rows"] = [r["id"] for r in mine["results"]] == [
                    r["id"] for r in floor["results"]
                ] and floor["count"] in (None, mine["count"])
            elif isinstance(mine, list):
                assert isinstance(floor, list)
                checks[f"{label}_same_rows"] = len(mine) == len(floor)
        for name, peer in self.peers.items() if scenario.peers else ():
            theirs = fetch(scenario.path, self.jwt(user), at=peer)
            checks[f"{name}_same_json"] = same_json(mine, theirs)
        return checks

    def measure(self, server: Server, scenario: Scenario) -> dict:
        from bench import floors

        cfg = self.cfg
        entry = {"name": scenario.name, "title": scenario.title, "unit": "req/s", "rounds": []}
        self.results["scenarios"].append(entry)
        entry["checks"] = self.preflight(server, scenario)
        entry["checks"]["orm_floor_same_sql"] = self.orm_same_sql.get(scenario.floor)
        floor_path = f"/bench/floor/{scenario.floor}/"
        orm_path = floors.orm_path(scenario.path, scenario.floor)
        if scenario.name == "summary_warm":
            self.touch_all(server, scenario.path)
        ledgers = scenario.ledgers
        peers = self.peers if scenario.peers else {}
        # The list again at more connections: its latency when more clients wait than workers.
        wide = cfg.wide_connections if scenario.name == "list" else 0
        if wide:
            entry["wide_connections"] = wide
        if not cfg.smoke:
            warm = max(1.0, cfg.duration / 4)
            self.wrk(server, scenario.path, "jwt", scenario.method, warm, ledgers=ledgers)
            self.wrk(server, orm_path, "floor", scenario.method, warm, ledgers=ledgers)
            self.wrk(server, floor_path, "floor", scenario.method, warm, ledgers=ledgers)
            for peer in peers.values():
                self.wrk(peer, scenario.path, "jwt", scenario.method, warm, ledgers=ledgers)
        peak = 0.0
        for number in range(cfg.rounds):
            with RssSampler(server) as sampler:
                cashman = self.wrk(
                    server, scenario.path, "jwt", scenario.method, cfg.duration, ledgers=ledgers
                )
                if wide:
                    cashman_wide = self.wrk(
                        server, scenario.path, "jwt", "GET", cfg.duration, connections=wide
                    )
            peak = max(peak, sampler.peak_mb)
            orm = self.wrk(
                server, orm_path, "floor", scenario.method, cfg.duration, ledgers=ledgers
            )
            view = self.wrk(
                server, floor_path, "floor", scenario.method, cfg.duration, ledgers=ledgers
            )
            sql = load.pgbench(
                self.cfg.database_url,
                self.scripts[scenario.floor],
                duration=cfg.duration,
                connections=cfg.connections,
                threads=cfg.threads,
            )
            runs = {"cashman": cashman, "orm": orm, "view": view, "sql": sql}
            for name, peer in peers.items():
                runs[name] = self.wrk(
                    peer, scenario.path, "jwt", scenario.method, cfg.duration, ledgers=ledgers
                )
            if wide:
                runs["cashman_wide"] = cashman_wide
            entry["rounds"].append(runs)
            self.log(
                f"{scenario.name} round {number + 1}: Cashman {cashman['rps']:.0f} req/s "
                f"(p99 {cashman['p99_ms']:.1f} ms), Django view {orm['rps']:.0f}, "
                f"raw view {view['rps']:.0f}, SQL {sql['rps']:.0f}"
                + "".join(f", {p.label} {runs[n]['rps']:.0f}" for n, p in peers.items())
                + (
                    f"; Cashman at {wide} connections {cashman_wide['rps']:.0f} req/s (p99 "
                    f"{cashman_wide['p99_ms']:.1f} ms)"
                    if wide
                    else ""
                )
            )
        entry["peak_rss_mb"] = peak
        if scenario.name == "summary_warm":
            entry["checks"].update(self.untouched_checks(server, scenario))
        return entry

    def peer_exports(self, user: int) -> dict[str, dict]:
        """Each peer's CSV export for `user` (bench/bulk_phase.py): `load.stream`'s numbers."""
        path = export_path("csv")
        return {
            name: load.stream(p.url + path, headers=self.jwt(user))
            for name, p in self.peers.items()
        }

    def touch_all(self, server: Server, path: str) -> None:
        """One request per user, so every user's summary is in the cache."""

        def one(uid: int) -> int:
            with load.request(server.url + path, headers=self.jwt(uid)) as answer:
                answer.read()
                return answer.status

        with ThreadPoolExecutor(self.cfg.connections) as pool:
            statuses = set(pool.map(one, range(1, self.token_users + 1)))
        if statuses != {200}:
            raise RuntimeError(f"warming the summaries answered {statuses}")

    def untouched_checks(self, server: Server, scenario: Scenario) -> dict:
        """A warm summary reads no transactions: none in the captured SQL, and (when
        BENCH_STATS_WAIT > 0) no scan of the table in pg_stat_user_tables during a warm run."""
        captured = self.captures["summary_warm"]
        checks = {"capture_untouched": not any(s.touches_transactions for s in captured.statements)}
        if self.cfg.stats_wait > 0:
            before = self.scans_after_idle()
            self.wrk(server, scenario.path, "jwt", "GET", self.cfg.duration)
            after = self.scans_after_idle()
            checks["pg_stat_scans_during_warm_run"] = after - before
            checks["stats_untouched"] = after == before
        checks["transactions_table_untouched"] = all(
            v for k, v in checks.items() if k.endswith("untouched")
        )
        return checks

    def scans_after_idle(self) -> int:
        # Idle backends report their table statistics within about ten seconds.
        time.sleep(self.cfg.stats_wait)
        with self.conn.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0) FROM pg_stat_user_tables"
                " WHERE relname = 'ledger_transaction'"
            )
            scans = cursor.fetchone()[0]
        self.conn.rollback()
        return scans


def same_json(mine: object, theirs: object) -> bool:
    """Whether a peer answered Cashman's JSON: the same but for the server's address in a page's
    links, and a created row's id and times."""

    def plain(answer: object) -> object:
        if isinstance(answer, dict) and "results" in answer:
            links = {
                k: answer.get(k) and urlsplit(answer[k])._replace(netloc="").geturl()
                for k in ("next", "previous")
            }
            return {**answer, **links}
        if isinstance(answer, dict) and "created_at" in answer:
            return {k: v for k, v in answer.items() if k not in ("id", "created_at", "updated_at")}
        return answer

    return plain(mine) == plain(theirs)


def run_all(cfg: Config, env: dict, tmp: Path, results: dict, log) -> None:
    from bench import bulk_phase

    run = Run(cfg, env, tmp, results, log)
    run.prepare()
    wanted = set(cfg.scenarios)
    scenarios = [s for s in load_scenarios(run.today) if not wanted or s.name in wanted]
    exports = not wanted or bool(wanted & {"export_csv", "export_json"})
    with ExitStack() as peers:  # started with the first phase that measures them
        for cache in (False, True):
            phase = [s for s in scenarios if s.cache is cache]
            if not phase:
                continue
            server = run.server(cache=cache, label="cache-on" if cache else "cache-off")
            with ExitStack() as stack:
                stack.callback(server.stop)
                if any(s.peers for s in phase) and not run.peers:
                    run.start_peers(peers)
                for scenario in phase:
                    run.measure(server, scenario)
        if not wanted or wanted & {"export_csv", "export_json", "import"}:
            server = run.server(cache=True, label="bulk")
            with ExitStack() as stack:
                stack.callback(server.stop)
                if exports and not run.peers:
                    run.start_peers(peers)
                bulk_phase.run(run, server, IMPORTS)
