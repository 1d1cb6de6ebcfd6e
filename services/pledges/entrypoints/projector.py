"""The pledges level host: ``python -m services.pledges.entrypoints.projector --level hn --level hn.ntl``."""

from services.pledges.adapters.level import PledgesLevelProjection
from services.pledges.adapters.level_reads import router
from shared.level_host import level_host_main


def main() -> None:
    level_host_main(PledgesLevelProjection, router)


if __name__ == "__main__":
    main()
