"""Read models: the service's copy of the unit tree, its inline records, and the level progress projection."""
