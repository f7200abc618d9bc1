"""Tenancy: the Tenant model, central query scoping, per-tenant plugin state and tenant admin."""
