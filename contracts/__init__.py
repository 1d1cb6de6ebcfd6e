"""The platform's event contracts as Python: one module per service (``contracts.directory``,
``contracts.registry``, ``contracts.pledges``, ``contracts.inspections``, ``contracts.awards``).

Each module defines the events that service publishes, as frozen pydantic models (``shared.events.Event``),
with their schema versions and upcasters. The producing service appends them; every other service
consumes them typed, from here, never from the producer's code. The JSON Schemas beside this file
(``events/*.json``), the AsyncAPI document and the CloudEvents mapping are exported from these modules.
"""
