"""One handler per command (load, check, decide, commit) and the read queries."""
