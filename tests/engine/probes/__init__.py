"""Stage kinds that exist only for the engine tests: a row source (``probe_rows``), an
artifact-only stage (``probe_artifact``) and a three-role stage (``probe_roles``). Each module
follows the stage contract exactly as the shipped kinds do; ``register()`` adds them to the
registry of this process."""

from __future__ import annotations

KINDS = {
    "probe_rows": "tests.engine.probes.rows",
    "probe_artifact": "tests.engine.probes.artifact",
    "probe_roles": "tests.engine.probes.roles",
}


def register() -> None:
    from corpus import stages

    stages.KINDS.update(KINDS)
