"""The registry's level host: ``python -m services.registry.entrypoints.projector --level hn --level hn.ntl``."""

from services.registry.adapters.level import RegistryLevelProjection
from services.registry.adapters.level_reads import router
from shared.level_host import level_host_main


def main() -> None:
    level_host_main(RegistryLevelProjection, router)


if __name__ == "__main__":
    main()
