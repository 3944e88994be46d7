"""Abuse: counting what the limits watch, raising and resolving flags."""
