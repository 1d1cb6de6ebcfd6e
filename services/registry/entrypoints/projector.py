"""The registry level projector: ``python -m services.registry.entrypoints.projector --scope hn.ntl``."""

from services.registry.adapters.level import RegistryLevelProjection
from shared.projector import projector_main


def main() -> None:
    projector_main(RegistryLevelProjection)


if __name__ == "__main__":
    main()
