from bench import report


def run(rps, p50=1.0, p99=2.0, **extra):
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "error_count": 0, "non_2xx": 0, **extra}


def scenario(name="list", rounds=None, **extra):
    return {"name": name, "title": name, "unit": "req/s", "rounds": rounds or [], **extra}


class TestSummarise:
    def test_medians_over_rounds(self):
        rounds = [
            {"cashman": run(100, 5, 50), "view": run(200), "sql": run(1000)},
            {"cashman": run(300, 7, 70), "view": run(300), "sql": run(1000)},
            {"cashman": run(200, 6, 90), "view": run(100), "sql": run(1000)},
        ]
        s = report.summarise(scenario(rounds=rounds))
        assert s["cashman"] == {"rps": 200, "p50_ms": 6, "p99_ms": 70}
        assert s["view"]["rps"] == 200
        assert s["p99_ms"] == 70

    def test_ratio_is_the_median_of_paired_round_ratios(self):
        # Per round 0.5, 1.0 and 2.0: the median is 1.0, whereas medians of each side would
        # give 200 / 200 = 1.0 only by chance; the pairing is what cancels drift.
        rounds = [
            {"cashman": run(100), "view": run(200)},
            {"cashman": run(300), "view": run(300)},
            {"cashman": run(200), "view": run(100)},
        ]
        s = report.summarise(scenario(rounds=rounds))
        assert s["ratio_view"] == 1.0
        assert s["ratio_sql"] is None
        assert s["sql"] is None

    def test_each_floor_has_its_own_ratio(self):
        rounds = [{"cashman": run(100), "orm": run(125), "view": run(250), "sql": run(1000)}]
        s = report.summarise(scenario(rounds=rounds))
        assert (s["ratio_orm"], s["ratio_view"], s["ratio_sql"]) == (0.8, 0.4, 0.1)

    def test_a_drifting_machine_keeps_the_ratio(self):
        rounds = [
            {"cashman": run(100 * k), "view": run(200 * k)} for k in (1.0, 0.5, 0.8, 1.2, 0.9)
        ]
        assert report.summarise(scenario(rounds=rounds))["ratio_view"] == 0.5


class TestTargets:
    def test_each_target_met_or_not(self):
        summaries = {
            "list": {"ratio_orm": 1.1, "ratio_view": 0.6, "p99_ms": 65.0},
            "list_search": {"p99_ms": 20.0},
            "summary_cold": {"ratio_sql": 0.7},
            "summary_warm": {"untouched": True},
            "create": {"ratio_orm": 0.5, "ratio_view": 0.9},
            "export_csv": {"peak_rss_mb": 120.0},
        }
        met = {t["target"]: t["met"] for t in report.evaluate(summaries)}
        assert met["list >= 1.0x bare Django view"] is True
        assert met["list >= 1.3x bare Django view (stretch)"] is False
        assert met["list p99 < 60 ms"] is False
        assert met["list + filters p99 < 60 ms"] is True
        assert met["summary uncached within 1.5x SQL"] is True
        assert met["summary warm: no transactions-table read"] is True
        assert met["create >= 0.8x bare Django view"] is False
        assert met["export csv memory < 200 MB"] is True
        assert met["export json memory < 200 MB"] is None  # not measured

    def test_within_one_and_a_half_times_the_sql(self):
        at = {"summary_cold": {"ratio_sql": 1 / 1.5}}
        below = {"summary_cold": {"ratio_sql": 0.66}}
        target = "summary uncached within 1.5x SQL"
        assert {t["target"]: t["met"] for t in report.evaluate(at)}[target] is True
        assert {t["target"]: t["met"] for t in report.evaluate(below)}[target] is False


class TestProblems:
    def test_a_clean_run_has_none(self):
        results = {"scenarios": [scenario(rounds=[{"cashman": run(1), "view": run(2)}])]}
        assert report.problems(results) == []

    def test_non_2xx_errors_missing_numbers_and_failed_checks(self):
        rounds = [{"cashman": run(1, non_2xx=3), "view": run(None), "sql": run(5, error_count=2)}]
        results = {
            "errors": ["RuntimeError: boom"],
            "scenarios": [
                scenario(rounds=rounds, checks={"floor_same_rows": False}),
                scenario("create"),
            ],
        }
        found = report.problems(results)
        assert found[0] == "RuntimeError: boom"
        assert "list round 1 cashman: 0 errors, 3 non-2xx" in found
        assert "list round 1 view: missing numbers" in found
        assert "list round 1 sql: 2 errors, 0 non-2xx" in found
        assert "list: check floor_same_rows failed" in found
        assert "create: no rounds ran" in found


def test_table_shows_each_scenario_and_the_targets():
    rounds = [
        {
            "cashman": run(1234.5, 3.2, 9.9),
            "orm": run(1000.0),
            "view": run(2000.0),
            "sql": run(4000.0),
        }
    ]
    text = report.table({"scenarios": [scenario(rounds=rounds, peak_rss_mb=80.5)]})
    row = next(line for line in text.splitlines() if line.startswith("| list |"))
    assert row == (
        "| list | req/s | 1,234 | 3.2 | 9.9 | 1,000 | 2,000 | 4,000 | 1.23 | 0.62 | 0.31 | - | - "
        "| 80.5 |"
    )
    assert "| list >= 1.0x bare Django view | 1.23 | met |" in text
    assert "| create >= 0.8x bare Django view | - | not measured |" in text


def test_report_reprints_a_stored_run(tmp_path, capsys):
    import json

    path = tmp_path / "r.json"
    path.write_text(json.dumps({"scenarios": [scenario(rounds=[{"cashman": run(5.0)}])]}))
    assert report.main(["report", str(path)]) == 0
    assert "| list | req/s | 5.0 |" in capsys.readouterr().out
