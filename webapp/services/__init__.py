"""Use cases grouped by feature, one function each, taking the unit of work, the actor and
(for retryable writes) an idempotency key; only the unit of work ends a transaction."""
