"""Services for people and accounts.

Each one that changes data runs in one transaction and records audit events.
"""
