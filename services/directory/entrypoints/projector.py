"""The directory level projector: ``python -m services.directory.entrypoints.projector --scope hn.ntl``."""

from services.directory.adapters.level import DirectoryLevelProjection
from shared.projector import projector_main


def main() -> None:
    projector_main(DirectoryLevelProjection)


if __name__ == "__main__":
    main()
