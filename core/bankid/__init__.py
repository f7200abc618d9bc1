"""Swedish BankID (Relying Party API v6.0): client, recommended messages, evidence checks, simulator.

    from core.bankid import BankIDClient, BankIDError, message_for, verify_completion

The simulator (`core.bankid.simulator`, `sigill bankid-simulator`) is imported on demand only.
"""

from core.bankid.client import BankIDClient, BankIDError, CollectResult, OrderStart, autostart_url, qr_frame
from core.bankid.evidence import BankIDEvidenceError, verify_completion
from core.bankid.messages import message_for, rfa_for
from core.personal_numbers import mask as mask_personal_number

__all__ = [
    "BankIDClient", "BankIDError", "BankIDEvidenceError", "CollectResult", "OrderStart",
    "autostart_url", "mask_personal_number", "message_for", "qr_frame", "rfa_for", "verify_completion",
]
