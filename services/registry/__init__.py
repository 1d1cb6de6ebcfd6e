"""The registry service: ideas, initiatives (registration → review → recognition → application →
acceptance → escalation → replication) and the initiative book."""

SERVICE = "registry"
