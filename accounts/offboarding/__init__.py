"""Offboarding and provisioning of accounts: plans, jobs of recorded steps, and their admin."""
