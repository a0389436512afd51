"""Stands in for an environment without Ray (PYTHONPATH=tests/shims/no_ray): importing ray fails."""

raise ImportError("No module named 'ray' (tests/shims/no_ray)")
