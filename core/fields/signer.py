"""What the signer page's field script says (messages with placeholders it fills in itself)."""

from __future__ import annotations

from core.i18n import _


def signer_texts() -> dict[str, str]:
    return {
        "saving": _("Saving…"),
        "saved": _("Saved."),
        "offline": _("Not saved: check your connection. Your entries are kept on this page."),
        "conflict": _("This field was changed in another window or on another device to: %(value)s"),
        "of": _("Field %(n)s of %(total)s"),
        "empty": _("(empty)"),
        "attention": _("Some fields need your attention before you can sign."),
    }
