"""Officer accounts: log in and out, password reset, invitations."""
