"""The one place Logger, Tracer and Metrics are created (Powertools); everything else imports them from here.

template.yaml sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE; the values below are the same names,
so the module gives the same telemetry when imported before the environment is set (tests, scripts).
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "omnicity")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Omnicity")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
