"""`make rebuild [SERVICE=registry] [LEVEL=hn.ntl]`: drop level read models and replay them from the
stream, on the running local platform (`make run`), while the other levels keep serving.

Without SERVICE every service's levels; without LEVEL every level its host serves.
"""

import os
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from deploy.local.run import LEVEL_PORT_BASE, SERVICES
from shared.settings import Settings
from shared.tokens import issue_token


def main() -> None:
    wanted_service, wanted_level = os.environ.get("SERVICE") or None, os.environ.get("LEVEL") or None
    headers = {"Authorization": f"Bearer {issue_token(Settings(local=True), 'admin')}"}
    names = [s.name for s in SERVICES]
    if wanted_service and wanted_service not in names:
        sys.exit(f"no service {wanted_service}; choose one of {', '.join(names)}")
    for index, service in enumerate(SERVICES):
        if wanted_service and service.name != wanted_service:
            continue
        host = f"http://127.0.0.1:{LEVEL_PORT_BASE + index}"
        try:
            served = httpx.get(f"{host}/levels", headers=headers, timeout=10).json()["levels"]
        except httpx.HTTPError as error:
            sys.exit(f"the {service.name} level host at {host} does not answer ({error}): is `make run` running?")
        if wanted_level and wanted_level not in served:
            sys.exit(f"the {service.name} level host serves {', '.join(served)}, not {wanted_level}")
        for level in [wanted_level] if wanted_level else served:
            response = httpx.post(f"{host}/levels/{level}/rebuild", headers=headers, timeout=600)
            response.raise_for_status()
            print(f"{service.name} {level}: rebuilt, {response.json()['applied']} events replayed")


if __name__ == "__main__":
    main()
