"""Wallet passes: their content, Apple's PassKit service, Google Wallet, updates."""
