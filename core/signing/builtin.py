"""The core's signing methods, registered like any plugin's (an always-on plugin, `CORE_PLUGINS`)."""

from __future__ import annotations

from core.plugins import hookimpl


@hookimpl
def register_signing_methods():
    from core.signing.bankid_method import BankIDMethod  # offered only when BANKID_URL is set
    from core.signing.sms_method import SmsMethod
    from core.signing.touch import TouchMethod

    return [BankIDMethod, TouchMethod, SmsMethod]
