"""The awards service: proposals, eligibility, authority and quotas, publicity, votes, decisions,
dossiers and the public award feed."""

SERVICE = "awards"
