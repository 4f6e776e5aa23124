"""Helpers shared by test folders: real servers on 127.0.0.1."""
