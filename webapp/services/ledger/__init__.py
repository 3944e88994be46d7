"""The points ledger: its writes, balances, manual adjustments and invariants."""
