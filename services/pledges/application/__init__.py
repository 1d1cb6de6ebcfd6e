"""One handler per command (load, check, decide, commit), the reminder scheduler and the read queries."""
