"""Wallet adapters only (no database): Apple (apple/: pass files, signing, APNs, the PassKit
web service) and Google (google/: REST client, JWT, links). The services that read and
write passes are in webapp/services/wallet/."""
