"""Cross-app pieces with one home each; no models. Every other app may import from here."""
