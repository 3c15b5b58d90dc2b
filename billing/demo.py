"""The demo's Asaas sandbox account, known to both ``load_demo`` and ``bin/dev.py``.

Plain constants (no Django import): ``bin/dev.py`` starts the Asaas simulator with a webhook to
this account before Django is set up. The values only ever reach the local simulator.
"""

from __future__ import annotations

ASAAS_ACCOUNT_NAME = "Asaas (sandbox)"
ASAAS_PUBLIC_ID = "demo-asaas-sandbox"
ASAAS_API_KEY = "$aact_hmlg_demo-sandbox-key-0123456789"  # the simulator accepts any key
ASAAS_WEBHOOK_TOKEN = "demo-asaas-webhook-token-0123456789"  # noqa: S105 - the simulator's demo account
ASAAS_SIMULATOR_PORT = 8103
ASAAS_CHARGE_REFERENCE = "DEMO-ASAAS-0001"


def asaas_webhook_spec(web_base_url: str) -> str:
    """``runsimulator asaas --webhook``'s value: where the simulator posts the demo account's events."""
    url = f"{web_base_url.rstrip('/')}/api/notifications/asaas/{ASAAS_PUBLIC_ID}/"
    return f"{ASAAS_API_KEY}:{ASAAS_WEBHOOK_TOKEN}:{url}"
