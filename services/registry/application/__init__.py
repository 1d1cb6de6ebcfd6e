"""application of the registry service."""
