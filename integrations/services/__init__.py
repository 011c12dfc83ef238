"""Services of the integrations app: each changes data in one transaction and writes an audit event."""
