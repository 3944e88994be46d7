"""Reports for managers and owners: read-only views across features (the audit trail)."""
