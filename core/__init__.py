"""Sigill: a multi-tenant e-signing web office."""
