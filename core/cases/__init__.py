"""Signing cases: creation, sending, follow-up, the event chain."""
