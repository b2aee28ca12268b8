"""The test suite; ``tests.support`` holds helpers shared with the benchmarks."""
