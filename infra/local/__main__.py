"""``python -m infra.local``: the whole platform on 127.0.0.1, in one process (what ``make run`` starts)."""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from infra.local.runtime import LocalRuntime

REPO_ROOT = Path(__file__).resolve().parents[2]


def parameter_overrides(pairs: Sequence[str] | str) -> dict[str, str]:
    """``Name=Value`` pairs, as ``sam --parameter-overrides`` takes them (one string, or a list of pairs)."""
    items = shlex.split(pairs) if isinstance(pairs, str) else list(pairs)
    overrides = {}
    for item in items:
        name, separator, value = item.partition("=")
        if not separator or not name:
            raise ValueError(f"a parameter override is Name=Value, got {item!r}")
        overrides[name] = value
    return overrides


def samconfig_overrides(path: Path, environment: str = "default") -> dict[str, str]:
    """The ``parameter_overrides`` ``sam local start-api`` reads in samconfig.toml
    (``[<environment>.local_start_api.parameters]``): the same local values for both ways of running locally."""
    if not path.is_file():
        return {}
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    section = config.get(environment, {}).get("local_start_api", {}).get("parameters", {})
    return parameter_overrides(section.get("parameter_overrides", []))


def main(argv: list[str] | None = None) -> int:
    """Start the runtime, print where it listens, serve until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    parser.add_argument("--port", type=int, default=3000, help="API port (default: 3000, as sam local start-api)")
    parser.add_argument("--moto-port", type=int, default=5005, help="moto server port (default: 5005)")
    parser.add_argument("--template", type=Path, default=REPO_ROOT / "template.yaml", help="SAM template to run")
    parser.add_argument("--log-level", default="INFO", help="log level of the runtime (default: INFO)")
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="template parameters, over samconfig.toml's [default.local_start_api.parameters] parameter_overrides",
    )
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=arguments.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore"):  # moto's request log and credential/endpoint notices
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))

    core_layer = REPO_ROOT / "layers" / "core"
    if str(core_layer) not in sys.path:
        sys.path.insert(0, str(core_layer))

    def terminate(_signal: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background (SIG_IGN)
    parameters = samconfig_overrides(arguments.template.parent / "samconfig.toml")
    parameters.update(parameter_overrides(arguments.parameter_overrides))
    runtime = LocalRuntime(
        arguments.template,
        mode="server",
        api_port=arguments.port,
        moto_port=arguments.moto_port,
        parameters=parameters,
    )
    try:
        runtime.start()
        runtime.bind_http()
        print(
            f"omnicity local runtime ready: API {runtime.api_url} (tokens: POST {runtime.api_url}/local/token) "
            f"| moto {runtime.moto_url} | Ctrl-C to stop",
            flush=True,
        )
        if runtime.has_seal:
            print(
                f"the city's seal (local CA, trusted by nobody else): GET {runtime.api_url}/local/seal/ca.pem, "
                f"or {runtime.seal.folder / 'ca.pem'}",
                flush=True,
            )
        runtime.serve_forever()
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        # A second Ctrl-C or SIGTERM while stopping would leave moto's server half shut: let the stop finish.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
