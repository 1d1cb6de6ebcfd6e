"""domain of the registry service."""
