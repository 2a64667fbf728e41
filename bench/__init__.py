"""Benchmarks of the data, training and inference paths: each module has
`run(quick: bool) -> dict` and `main()`.

`./run_bench.sh` runs every module present and merges their sections into
`bench/results/latest.json`. Benchmarks, not tests: nothing here asserts a timing.
"""
