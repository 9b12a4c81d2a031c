"""``python -m vcred``: the ``vcred`` command, for environments without the script on PATH."""

from vcred.cli import main

if __name__ == "__main__":
    main(prog_name="vcred")
