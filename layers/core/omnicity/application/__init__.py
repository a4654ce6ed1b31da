"""The use cases: what the API and the workflow steps do, in the domain's words."""
