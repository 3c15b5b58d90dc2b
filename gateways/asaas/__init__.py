"""Asaas (API v3): the adapter (``adapter``), its wire format (``client``) and a simulator."""
