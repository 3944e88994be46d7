"""Pure business rules: standard library only, no framework, no database."""
