"""The procedure catalogue: one data file per procedure in ``procedures/``, document templates in ``templates/``.

Adding a procedure in an existing family needs no code: a YAML file (and a template if it issues a document).
The catalogue is validated into :class:`~omnicity.domain.models.Procedure` models once per process.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from omnicity import families
from omnicity.adapters.audit import DEFAULT_RETENTION_DAYS
from omnicity.capabilities import BUILT_IN
from omnicity.capabilities.base import validate_capabilities
from omnicity.capabilities.departments import departments_of
from omnicity.capabilities.review import Review
from omnicity.domain.errors import NotFoundError
from omnicity.domain.models import Procedure
from omnicity.observability import logger

PROCEDURES_DIR = Path(__file__).parent / "procedures"


class Catalogue:
    def __init__(self, procedures: list[Procedure]) -> None:
        self._by_id = {procedure.id: procedure for procedure in procedures}
        if len(self._by_id) != len(procedures):
            raise ValueError("duplicate procedure id in the catalogue")

    def all(self) -> list[Procedure]:
        return sorted(self._by_id.values(), key=lambda procedure: procedure.id)

    def departments(self) -> list[str]:
        """Every department a procedure's human step can be queued for (its review's, or where it routes to)."""
        found: set[str] = set()
        for procedure in self._by_id.values():
            found |= departments_of(procedure)
        return sorted(found)

    def get(self, procedure_id: str) -> Procedure:
        try:
            return self._by_id[procedure_id]
        except KeyError:
            raise NotFoundError(f"no procedure {procedure_id!r}") from None

    @classmethod
    def from_directory(cls, directory: Path = PROCEDURES_DIR) -> Catalogue:
        import yaml

        procedures = []
        for path in sorted(directory.glob("*.yaml")):
            procedure = load_procedure(yaml.safe_load(path.read_text(encoding="utf-8")))
            if procedure.id != path.stem:
                raise ValueError(f"{path.name}: id {procedure.id!r} must match the file name")
            procedures.append(procedure)
        return cls(procedures)


def load_procedure(data: object) -> Procedure:
    """A catalogue entry (its YAML, parsed) as a procedure, its capabilities' settings validated (ValueError naming
    the capability and the setting otherwise), of a family ``omnicity.families`` declares, with every capability that
    family requires (ValueError naming the procedure and the family otherwise)."""
    for module in BUILT_IN:
        importlib.import_module(f"omnicity.capabilities.{module}")
    # The review conditions check the registers: imported when a catalogue is read, not by every function's init
    from omnicity.catalogue.review_conditions import CONDITIONS

    procedure = validate_capabilities(Procedure.model_validate(data))
    review = Review.settings(procedure)
    if review is not None and review.when not in CONDITIONS:
        raise ValueError(f"{procedure.id}: capabilities.review.when: no condition {review.when!r}")
    family = families.BY_NAME.get(procedure.family)
    if family is None:
        raise ValueError(f"{procedure.id}: family {procedure.family!r} is not one of {sorted(families.BY_NAME)}")
    missing = [name for name in family.capabilities if name not in procedure.capabilities]
    if missing:
        raise ValueError(f"{procedure.id}: the family {family.name!r} needs the capabilities {missing}")
    return procedure


class DeferredCatalogue(Catalogue):
    """The bundled catalogue, read on first use. A function builds its services at cold start with this one and pays
    for reading the procedures' YAML when a request first needs one (the API's init stays lean: bench/RESULTS.md);
    the catalogue is the same object for the whole process (:func:`get_catalogue`). A catalogue that does not load
    fails every test run first (tests/unit/test_catalogue_integrity.py)."""

    def __init__(self) -> None:  # nothing read yet
        pass

    @property
    def _by_id(self) -> dict[str, Procedure]:  # type: ignore[override]
        return get_catalogue()._by_id


def retention_days_of(procedure_id: str) -> int:
    """How long a closed case of the procedure is kept (``retention_days`` in its entry: the repositories' retention,
    ``omnicity.adapters.audit.Retention``). A procedure the catalogue no longer holds keeps the default, the longest
    a case is kept, never less."""
    try:
        return get_catalogue().get(procedure_id).retention_days
    except NotFoundError:
        logger.warning("retention of an unknown procedure: the default", extra={"procedure_id": procedure_id})
        return DEFAULT_RETENTION_DAYS


@cache
def get_catalogue() -> Catalogue:
    return Catalogue.from_directory()
