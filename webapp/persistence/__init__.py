"""Storage: SQLAlchemy 2.0 models, the engine set-up for both engines, queries."""
