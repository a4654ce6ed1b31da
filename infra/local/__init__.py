"""The embedded local runtime: template.yaml read as the source of truth, moto, an in-process Lambda bridge and an
API Gateway-like HTTP front, all in one Python process (``python -m infra.local``).

Modules:

- ``template``: load template.yaml (short CloudFormation tags), resolve intrinsics for the local world and describe
  functions, routes, tables, buckets, state machines and app clients as dataclasses.
- ``provision``: create the template's tables, buckets, SES sender and state machines with plain boto3 clients.
- ``bridge``: run the template's handlers in-process, for moto's Step Functions interpreter and for the gateway.
- ``tokens``: a local token issuer that verifies tokens the way API Gateway's Cognito authorizer does.
- ``gateway``: REST API proxy events (v1) from HTTP requests, plus the local-only ``/local/*`` routes.
- ``runtime``: start and stop everything (server mode for ``make run``, in-process mode for tests).
"""
