"""The procedure catalogue: one data file per procedure in ``procedures/``, document templates in ``templates/``.

Adding a procedure in an existing family needs no code: a YAML file (and a template if it issues a document).
The catalogue is validated into :class:`~omnicity.domain.models.Procedure` models once per process.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from omnicity.domain.errors import NotFoundError
from omnicity.domain.models import Procedure

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
            if procedure.review is not None:
                found.add(procedure.review.department)
            if procedure.routing is not None:
                found.update(procedure.routing.departments.values())
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
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            procedure = Procedure.model_validate(data)
            if procedure.id != path.stem:
                raise ValueError(f"{path.name}: id {procedure.id!r} must match the file name")
            procedures.append(procedure)
        return cls(procedures)


@cache
def get_catalogue() -> Catalogue:
    return Catalogue.from_directory()
