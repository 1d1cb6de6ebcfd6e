"""Plain-Python domain of the directory: events, aggregates (Unit, Member), commands and rules; no I/O."""
