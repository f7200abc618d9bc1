"""The REST API for integrators (/api/v1), API keys and webhooks."""
