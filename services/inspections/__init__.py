"""The inspections service: self-inspections pre-filled from the facts, upper-level inspections of
sampled units with findings and corrective actions, yearly grading, and the formalism radar."""

SERVICE = "inspections"
