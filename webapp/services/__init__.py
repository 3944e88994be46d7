"""Use cases: one function each, taking the session, the actor and (for retryable
writes) an idempotency key. Services are the one place that commits."""
