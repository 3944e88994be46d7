"""Apple Wallet and Google Wallet passes (built in a later issue)."""
