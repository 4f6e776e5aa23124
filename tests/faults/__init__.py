"""Fault-injection tests (real processes, real files); a package so names like test_loader.py
do not clash with the unit tests of the same name."""
