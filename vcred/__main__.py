"""``python -m vcred``: the ``vcred`` command, for environments without the script on PATH."""

from vcred.cli import main

main(prog_name="vcred")
