"""The benchmarks: ``make bench`` (``python -m bench``) measures them and writes bench/RESULTS.md."""
