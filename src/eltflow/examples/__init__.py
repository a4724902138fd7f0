"""Bundled example state machines (package data: ``*.asl.json``)."""
