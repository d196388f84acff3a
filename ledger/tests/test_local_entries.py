"""The per-process entries (ledger.cached_reads.LocalEntries) each worker keeps in front of the shared
cache: a byte budget spent least recently used first, no oversized entry, expiry with the
timeout, and a copy for each read."""

import pickle
from decimal import Decimal

from ledger import cached_reads


class TestLocalEntries:
    """What each process keeps in front of the shared cache."""

    def test_the_least_recently_used_entries_go_first_to_keep_within_the_budget(self):
        one = len(pickle.dumps(1, pickle.HIGHEST_PROTOCOL)) + len("k00") + cached_reads.ENTRY_BYTES
        local = cached_reads.LocalEntries(max_bytes=16 * one)  # room for sixteen
        keys = [f"k{i:02}" for i in range(17)]
        for key in keys[:16]:
            local.set(key, 1, 60)
        assert local.size == 16 * one
        assert local.get("k00") == 1  # now k01 is the least recently used
        local.set(keys[16], 1, 60)
        assert local.get("k01") is cached_reads._MISSING
        assert all(local.get(key) == 1 for key in keys if key != "k01")
        assert local.size == 16 * one
        local.set("k00", 2, 60)  # replaced, not counted twice
        assert local.size == 16 * one
        assert local.get("k00") == 2

    def test_an_entry_over_a_sixteenth_of_the_budget_is_not_kept(self):
        local = cached_reads.LocalEntries(max_bytes=16 * 1024)
        local.set("big", "x" * 1024, 60)
        local.set("small", "x" * 100, 60)
        assert local.get("big") is cached_reads._MISSING
        assert local.get("small") == "x" * 100

    def test_an_entry_expires_with_its_timeout(self, monkeypatch):
        now = [1000.0]
        monkeypatch.setattr(cached_reads.time, "monotonic", lambda: now[0])
        local = cached_reads.LocalEntries(max_bytes=1024 * 1024)
        local.set("a", 1, 60)
        now[0] += 59.9
        assert local.get("a") == 1
        now[0] += 0.1
        assert local.get("a") is cached_reads._MISSING

    def test_each_read_gets_its_own_copy(self):
        local = cached_reads.LocalEntries(max_bytes=1024 * 1024)
        local.set("rows", [{"month": "2026-11", "income": Decimal("1.10")}], 60)
        local.get("rows")[0]["income"] = Decimal("9")
        assert local.get("rows") == [{"month": "2026-11", "income": Decimal("1.10")}]
