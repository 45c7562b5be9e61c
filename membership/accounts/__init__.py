"""Admin accounts: users, their logins kept on the server, and the audit log. No Flask here."""
