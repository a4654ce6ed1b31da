"""Every name a catalogue entry uses points at something that exists: procedures are data, and data can dangle."""

from __future__ import annotations

import pytest

from infra.local.template import describe
from omnicity.adapters.rendering import MissingContextError, render_document
from omnicity.capabilities.review import Review
from omnicity.capabilities.routing import Routing
from omnicity.catalogue import get_catalogue
from omnicity.catalogue.document_contexts import BUILDERS
from omnicity.catalogue.eligibility import RULES
from omnicity.catalogue.review_conditions import CONDITIONS
from omnicity.config import ApiSettings
from omnicity.domain.models import Language, Procedure
from omnicity.forms.validation import FORM_RULES
from tests.conftest import TEMPLATE

PROCEDURES = get_catalogue().all()
DOCUMENTS = [procedure for procedure in PROCEDURES if procedure.document is not None]


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.id)
def test_rules_conditions_and_form_rules_exist(procedure: Procedure) -> None:
    assert set(procedure.eligibility) <= set(RULES)
    review = Review.settings(procedure)
    if review is not None:
        assert review.when in CONDITIONS
        assert set(review.approving) <= set(review.outcomes)
    field_names = {field.name for field in procedure.fields}
    for name in procedure.form_rules:
        assert name in FORM_RULES
        assert set(FORM_RULES[name].fields) & field_names, f"{name} checks none of {procedure.id}'s fields"


@pytest.mark.parametrize("language", list(Language), ids=str)
@pytest.mark.parametrize("procedure", DOCUMENTS, ids=lambda p: p.id)
def test_a_document_has_a_template_in_each_language(procedure: Procedure, language: Language) -> None:
    # Given a procedure that issues a document, and a language its case may be in
    assert procedure.document is not None
    # When the renderer is asked for that document in that language, with no context yet
    # Then it finds the template: what stops it is the context the wording needs, not a missing template
    with pytest.raises(MissingContextError):
        render_document(procedure.document.template, language.value, {})


@pytest.mark.parametrize("procedure", DOCUMENTS, ids=lambda p: p.id)
def test_a_document_has_a_context_builder(procedure: Procedure) -> None:
    assert procedure.document is not None
    assert procedure.document.template in BUILDERS


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.id)
def test_the_family_has_a_state_machine_in_the_template(procedure: Procedure) -> None:
    # The API maps each family to a state machine ARN setting; the template gives the API that setting
    environment = describe(TEMPLATE).functions["ApiFunction"].environment
    settings = ApiSettings.model_validate(environment)
    assert settings.state_machine_arn(procedure.family).startswith("arn:aws:states:")


def test_routing_sends_every_choice_to_a_department() -> None:
    for procedure in PROCEDURES:
        routing = Routing.settings(procedure)
        if routing is None:
            continue
        field = next(f for f in procedure.fields if f.name == routing.field)
        assert {choice.value for choice in field.choices or []} == set(routing.departments)


def test_every_documents_retention_has_a_lifecycle_rule_in_the_bucket() -> None:
    # Documents are tagged with their procedure's retention_days; the bucket expires them by that tag
    bucket = describe(TEMPLATE).buckets["DocumentsBucket"].properties
    rules = bucket["LifecycleConfiguration"]["Rules"]
    expiring = {int(rule["TagFilters"][0]["Value"]): rule["ExpirationInDays"] for rule in rules if "TagFilters" in rule}
    for procedure in PROCEDURES:
        if procedure.document is not None:
            assert expiring.get(procedure.retention_days) == procedure.retention_days, procedure.id
