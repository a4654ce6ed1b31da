"""Infrastructure code that is not deployed: the embedded local runtime lives in ``infra.local``."""
