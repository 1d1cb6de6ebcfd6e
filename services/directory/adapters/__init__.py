"""Read models: the inline tree the handlers validate against, and the per-level projection."""
