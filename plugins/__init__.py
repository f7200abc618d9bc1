"""Sigill's special features. Each package here is a pluggy plugin a tenant switches on
(see `core.plugins` for how to write one)."""
