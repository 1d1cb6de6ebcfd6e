"""The awards level host: ``python -m services.awards.entrypoints.projector --level hn --level hn.ntl``.

Each level keeps its inbox, its review board and its award histories (``adapters/level.py``).
"""

from services.awards.adapters.level import AwardsLevel, router
from shared.level_host import level_host_main


def main() -> None:
    level_host_main(AwardsLevel, router)


if __name__ == "__main__":
    main()
