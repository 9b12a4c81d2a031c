"""--config FILE: options from TOML, command line wins, unknown names refused."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from vcred_service.config_file import config_file_option


@click.command("issuer")
@config_file_option
@click.option("--port", type=int, default=8100)
@click.option("--data-dir", default="issuer-data")
@click.option("--format", "formats", multiple=True)
@click.option("--dev", is_flag=True)
def show(port: int, data_dir: str, formats: tuple[str, ...], dev: bool) -> None:
    click.echo(f"{port} {data_dir} {','.join(formats)} {dev}")


def run(tmp_path: Path, text: str, *args: str) -> click.testing.Result:
    config = tmp_path / "vcred.toml"
    config.write_text(text)
    return CliRunner().invoke(show, ["--config", str(config), *args])


def test_settings_come_from_the_file(tmp_path: Path) -> None:
    result = run(
        tmp_path, 'port = 9000\ndata-dir = "/srv/x"\nformat = ["vc+jwt", "sd-jwt"]\ndev = true\n'
    )
    assert result.output.strip() == "9000 /srv/x vc+jwt,sd-jwt True"


def test_the_command_table_is_used_and_others_ignored(tmp_path: Path) -> None:
    result = run(tmp_path, "[issuer]\nport = 9001\n[verifier]\nport = 9201\n")
    assert result.output.startswith("9001 ")


def test_the_command_line_wins(tmp_path: Path) -> None:
    assert run(tmp_path, "port = 9000\n", "--port", "9100").output.startswith("9100 ")


def test_unknown_settings_and_bad_files_are_refused(tmp_path: Path) -> None:
    unknown = run(tmp_path, "prot = 9000\n")
    assert unknown.exit_code == 2
    assert "unknown setting 'prot'" in unknown.output
    broken = run(tmp_path, "port = \n")
    assert broken.exit_code == 2


def test_a_file_nested_past_the_parser_is_refused_not_a_traceback(tmp_path: Path) -> None:
    # tomllib recurses once per level: a RecursionError came out of the option's callback
    nested = run(tmp_path, "port = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert nested.exit_code == 2, nested.output
    assert isinstance(nested.exception, SystemExit), nested.exception
    assert "cannot read" in nested.output and "nested too deeply" in nested.output


def test_the_services_take_a_config_file() -> None:
    from issuer_app.cli import command as issuer
    from verifier_app.cli import command as verifier

    for command in (issuer, verifier):
        assert any(p.name == "config" for p in command.params)
