"""Steps a party completes before they may sign, each on a plugin's own page (e.g. an ID check).

A plugin returns `SigningStep`s from the `signing_steps(case, party)` hook; the step's `done` is
the plugin's to say (from its own rows). While a step is open:

* the signer page shows the steps, each a link to the plugin's page, instead of the methods;
* no method action starts (`run_action`: no BankID order, no SMS code), and
* the final submit is refused (`sign`).

`before_party_signs` is asked at the same two places, so a plugin's refusal also stops a method
before it starts. Both are asked inside the request's transaction, before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import _
from core.models import Case, Party
from core.plugins import hooks_for_tenant_id


@dataclass(frozen=True)
class SigningStep:
    """One thing a party does before signing.

    name: the step's id (unique among the tenant's plugins); label: what the signer page calls it,
    in the party's language; endpoint: the plugin's view for it, built as `url_for(endpoint,
    token=<the party's link token>)`; done: whether the party has completed it; hint: an optional
    line under the label.
    """

    name: str
    label: str
    endpoint: str
    done: bool = False
    hint: str = ""


def steps_for(case: Case, party: Party) -> list[SigningStep]:
    """Every step the tenant's enabled plugins ask of this party, done or not, in plugin order."""
    if party.role != "signer":
        return []
    found: list[SigningStep] = []
    for provided in hooks_for_tenant_id(case.tenant_id).signing_steps(case=case, party=party):
        found.extend(provided or [])
    return found


def open_steps(case: Case, party: Party) -> list[SigningStep]:
    return [step for step in steps_for(case, party) if not step.done]


def refusal(case: Case, party: Party, method: str, steps: list[SigningStep] | None = None) -> str | None:
    """Why the party may not start signing with `method` now (an open step, a plugin's refusal)."""
    pending = [s for s in (steps if steps is not None else steps_for(case, party)) if not s.done]
    if pending:
        return _("Before you sign: %(step)s.", step=pending[0].label)
    blocked = hooks_for_tenant_id(case.tenant_id).before_party_signs(
        case=case, party=party, method=method)
    return str(blocked) if blocked else None
