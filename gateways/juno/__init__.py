"""Juno / Boleto Fácil: the adapter (``adapter``), its wire format (``client``) and a simulator."""
