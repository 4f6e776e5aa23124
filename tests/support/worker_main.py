"""The ``__main__`` module pytest-xdist's workers report (tests/conftest.py).

A worker's real ``__main__`` has neither ``__spec__`` nor ``__file__``; the conftest names this
module instead. A ``spawn`` child of a worker (the Spark steps' ``run_in_spark``) runs the
parent's main module as its ``__mp_main__``: this one defines nothing, so that is harmless.
"""
