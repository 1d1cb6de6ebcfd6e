"""The directory's level host: ``python -m services.directory.entrypoints.projector --level hn --level hn.ntl``."""

from services.directory.adapters.level import DirectoryLevelProjection
from services.directory.adapters.level_reads import router
from shared.level_host import level_host_main


def main() -> None:
    level_host_main(DirectoryLevelProjection, router)


if __name__ == "__main__":
    main()
