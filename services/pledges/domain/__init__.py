"""Campaigns, pledges, registrations and progress: aggregates, events, rules; no I/O."""
