"""Regulars: a loyalty platform for service businesses.

This package stays light on purpose: ``import webapp.domain`` must not load
Flask or SQLAlchemy. The application lives in :mod:`webapp.app`.
"""
