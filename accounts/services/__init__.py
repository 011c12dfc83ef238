"""Services that change people and accounts. Each runs in one transaction and records audit events."""
