"""`sigill bankid-simulator` writes its certificates and starts the servers it was asked for."""

from __future__ import annotations

from click.testing import CliRunner

from core.bankid import simulator
from core.bankid.cli import bankid_simulator


def test_it_writes_certificates_and_runs_on_the_given_ports(tmp_path, monkeypatch):
    started = {}
    monkeypatch.setattr(simulator, "run", lambda *args: started.update(args=args))
    result = CliRunner().invoke(bankid_simulator, ["--port", "9443", "--control-port", "9444",
                                                   "--certs", str(tmp_path / "sim")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sim" / "rp.p12").exists() and (tmp_path / "sim" / "ca.pem").exists()
    assert "BANKID_URL=https://127.0.0.1:9443/rp/v6.0/" in result.output
    port, control_port, certs_dir, settings = started["args"]
    assert (port, control_port, settings.start_timeout) == (9443, 9444, 30.0)
