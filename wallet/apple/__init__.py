"""Apple Wallet: the settings and certificates, the signed .pkpass, its images."""
