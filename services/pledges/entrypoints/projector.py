"""The pledges level projector: ``python -m services.pledges.entrypoints.projector --scope hn.ntl``."""

from services.pledges.adapters.level import PledgesLevelProjection
from shared.projector import projector_main


def main() -> None:
    projector_main(PledgesLevelProjection)


if __name__ == "__main__":
    main()
