"""Customers: joining, signing in by code, their card, profile, history, search."""
