"""HTTP API, app wiring and the level projector process."""
