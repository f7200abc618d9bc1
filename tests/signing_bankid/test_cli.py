"""`make run` starts the simulator through the `sigill` command."""

from click.testing import CliRunner

from core.cli import cli


def test_sigill_has_the_bankid_simulator_command():
    result = CliRunner().invoke(cli, ["bankid-simulator", "--help"])
    assert result.exit_code == 0 and "--certs" in result.output and "--control-port" in result.output
