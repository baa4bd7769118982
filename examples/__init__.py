"""Python examples of leakycl, run from the repository root as `python -m examples.<name>`."""
