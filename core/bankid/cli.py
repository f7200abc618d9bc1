"""`sigill bankid-simulator`: a local BankID for development (register with `cli.add_command`)."""

from __future__ import annotations

import logging
from pathlib import Path

import click


@click.command("bankid-simulator")
@click.option("--port", default=8443, show_default=True, type=int, help="HTTPS port of the RP API.")
@click.option("--control-port", default=8444, show_default=True, type=int,
              help="Plain-HTTP port (loopback only) of the control API and phone page.")
@click.option("--certs", "certs_dir", default="instance/bankid-sim", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Where the simulator's CA and the RP client certificate are written (once).")
@click.option("--start-timeout", default=30.0, show_default=True, type=float,
              help="Seconds before an unscanned order fails with startFailed.")
@click.option("--order-timeout", default=180.0, show_default=True, type=float,
              help="Seconds before a pending order fails with expiredTransaction.")
def bankid_simulator(port: int, control_port: int, certs_dir: Path, start_timeout: float,
                     order_timeout: float) -> None:
    """Serve BankID's RP API v6.0 over mutual TLS on 127.0.0.1, with a phone-app page to approve orders."""
    from core.bankid.sim.certs import ensure_certs
    from core.bankid.sim.orders import Settings
    from core.bankid.simulator import run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    certs = ensure_certs(certs_dir)
    click.echo(f"RP API:      https://127.0.0.1:{port}/rp/v6.0/")
    click.echo(f"Phone page:  http://127.0.0.1:{control_port}/sim/")
    click.echo(f"BANKID_URL=https://127.0.0.1:{port}/rp/v6.0/")
    click.echo(f"BANKID_CERT_P12={certs.rp_p12.resolve()}")
    click.echo(f"BANKID_CERT_PASSWORD={certs.rp_p12_password}")
    click.echo(f"BANKID_CA={certs.ca.resolve()}")
    run(port, control_port, certs_dir, Settings(start_timeout=start_timeout, order_timeout=order_timeout))
