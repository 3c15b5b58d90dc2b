"""The provider and its gateway accounts (bank accounts with encrypted credentials)."""
