"""The staff counter and back office blueprints (built in later issues)."""
