"""Staff-facing web: sign-in, sessions and role checks here; the counter (counter/) and
the back office (backoffice/) as blueprints."""
