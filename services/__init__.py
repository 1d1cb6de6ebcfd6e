"""thidua services: one package per bounded context (directory, registry, pledges, inspections, awards)."""
