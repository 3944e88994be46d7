"""The counter: check-ins, quoting and closing orders, redemption codes, receipts."""
