"""The benchmark harness: `make bench` (full) and `make bench-smoke` (tiny, for CI). See bench/README.md."""
