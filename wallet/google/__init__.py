"""Google Wallet: a loyalty class per business and a loyalty object per customer through
the Wallet REST API with a service account, patched on every change, and the "Save to
Google Wallet" link that refers to the inserted object."""
