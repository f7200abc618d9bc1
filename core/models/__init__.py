"""All models, imported here so Alembic and the app see every table."""

from core.api.models import ApiKey, IdempotencyRecord, WebhookDelivery, WebhookEndpoint
from core.bankid.models import BankIDOrder
from core.case_templates.models import CaseTemplate, TemplateVersion
from core.fields.models import CaseField, FieldValue
from core.models.case import Case, Document, Event, Party, Signature
from core.models.officer import Officer, OfficerSession, OfficerToken
from core.models.platform import ChainAnchor, ChainAnchorLeaf, ChainLegacyCover, Job, OutgoingMail, RateLimitHit
from core.signing.models import SmsChallenge
from tenants.models import Tenant

__all__ = [
    "ApiKey", "BankIDOrder", "Case", "CaseField", "CaseTemplate", "ChainAnchor", "ChainAnchorLeaf",
    "ChainLegacyCover", "Document", "Event", "FieldValue", "Job", "Officer", "OfficerSession", "OfficerToken",
    "OutgoingMail", "Party",
    "RateLimitHit", "Signature", "SmsChallenge", "Tenant", "IdempotencyRecord", "TemplateVersion", "WebhookDelivery",
    "WebhookEndpoint",
]
