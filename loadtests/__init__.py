"""Load tests, load shapes and benchmarks (traffic to 127.0.0.1 only, always bounded)."""
