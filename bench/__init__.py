"""Benchmarks: each compares ours against a baseline measured in the same run and prints
ratios. Run them all with `make bench` (`python -m bench`); see bench/__main__.py."""

from __future__ import annotations
