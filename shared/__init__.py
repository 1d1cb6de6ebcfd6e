"""thidua platform library: what every service shares (events, store, outbox relay, projections, auth)."""
