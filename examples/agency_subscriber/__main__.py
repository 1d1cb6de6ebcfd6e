"""``python -m examples.agency_subscriber``: run the subscriber until SIGINT/SIGTERM (no faststream CLI needed)."""

import asyncio
import logging

from examples.agency_subscriber.app import app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
asyncio.run(app.run())
