"""The gates CI runs, each a make target first (Makefile), so a developer runs the same locally.

Run as `python -m ci.<name>` inside the locked environment; .github/workflows/ call only make.
"""
