"""Staff: accounts, sign-in and its limits, the owner's team, the audit trail."""
