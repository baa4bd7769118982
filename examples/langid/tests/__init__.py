"""Tests of the language-identification example (a package, so that its conftest does not
collide with python/tests/conftest.py when one pytest run collects both)."""
