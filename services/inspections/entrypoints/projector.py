"""The inspections level host: ``python -m services.inspections.entrypoints.projector --level hn --level hn.ntl``.

Each level keeps its own durable consumer, checkpoint and database; reads are at
``/levels/{level}/inspections/…`` behind the bearer token and the subtree rule.
"""

from services.inspections.adapters.level import InspectionsProjection
from services.inspections.adapters.level_reads import router
from shared.level_host import level_host_main


def main() -> None:
    level_host_main(InspectionsProjection, router)


if __name__ == "__main__":
    main()
