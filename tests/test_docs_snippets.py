"""Every command and program in README.md and docs/*.md runs as written.

How authors mark blocks — by the fence's info string:

- ```sh, ```bash, ```console and ```python blocks are RUN, in document order, one document at a
  time, in a temporary folder of the document's own (files one block writes, the next reads).
  Each shell block is a new ``bash -e -o pipefail`` (files carry over, variables do not); of a
  ```console block only the ``$ `` lines run. The python blocks of a document share one
  interpreter, started in that folder (names carry over, as in a REPL).
- ```sh norun: shown, NOT run — commands for a fresh machine (installing, ``make``) or that run
  for minutes. They are still checked: every ``make TARGET`` must exist in the Makefile and
  every ``vcred[EXTRA]`` must be an extra in pyproject.toml.
- Anything else is not run: ```text for output and request/answer shapes, ```toml, ```json,
  ```http, and bare fences.

While running: ``vcred`` and ``python`` are the checkout's (the venv's bin first on PATH); no
``VCRED_*`` or ``DATABASE_URL`` variable is set; ports 8100–8299 are replaced by free ports
and ``/tmp/`` by the document's folder, so a document runs beside anything else; a command
ending in ``&`` starts a service in the background, and every process a document started is
stopped when the document ends. A failure names the document, the line and the output.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pytest

from tests.httpserver import free_port

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = {"sh", "bash", "console", "python"}
NORUN = "norun"
BLOCK_TIMEOUT = 180
_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_PORT = re.compile(r"(?<![\d.])8[12]\d\d(?!\d)")


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block: where it starts (the first line of code, 1-based) and what it says."""

    document: Path
    line: int
    language: str
    options: tuple[str, ...]
    code: str

    @property
    def runs(self) -> bool:
        return self.language in RUN and NORUN not in self.options

    @property
    def where(self) -> str:
        name = (
            self.document.relative_to(ROOT) if self.document.is_relative_to(ROOT) else self.document
        )
        return f"{name}:{self.line}"


def fenced_blocks(document: Path) -> list[Block]:
    """Every fenced block of a Markdown document (indented fences in lists too)."""
    lines = document.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        words = opening["info"].split()
        end = index + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(fence) and lines[end].strip().strip(fence[0]) == ""
        ):
            end += 1
        # the block's lines without the fence's indentation (a fence in a list item)
        code = "\n".join(_dedent(line, indent) for line in lines[index + 1 : end])
        found.append(
            Block(document, index + 2, words[0] if words else "", tuple(words[1:]), code + "\n")
        )
        index = end + 1
    return found


def _dedent(line: str, indent: int) -> str:
    return line[indent:] if line[:indent] == " " * indent else line.lstrip(" ")


def console_commands(code: str) -> str:
    """The ``$ `` lines of a console block (with their ``\\`` continuations), as a script."""
    commands: list[str] = []
    continuing = False
    for line in code.splitlines():
        if continuing or line.startswith("$ "):
            commands.append(line if continuing else line[2:])
            continuing = line.endswith("\\")
    return "\n".join(commands) + "\n"


class Session:
    """One document's run: its folder, its environment, its processes."""

    def __init__(self, folder: Path, logs: Path) -> None:
        self.folder = folder
        self.logs = logs
        self.ports: dict[str, str] = {}
        self.groups: list[int] = []
        self.python: subprocess.Popen[str] | None = None
        self.python_log: TextIO | None = None
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("VCRED_") and name != "DATABASE_URL"
        }
        self.env.update(PATH=path, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")

    def localise(self, code: str) -> str:
        """The documented ports → free ones (the same one each time), /tmp/ → this folder."""

        def port(match: re.Match[str]) -> str:
            return self.ports.setdefault(match[0], str(free_port()))

        return _PORT.sub(port, code.replace("/tmp/", f"{self.folder}/"))

    def run(self, block: Block) -> None:
        code = self.localise(block.code)
        if block.language == "python":
            self._python(block, code)
        else:
            self._shell(block, console_commands(code) if block.language == "console" else code)

    def _shell(self, block: Block, script: str) -> None:
        log = self.logs / f"{block.document.name}-{block.line}.log"
        with log.open("w", encoding="utf-8") as output:
            # a session of its own: what the block leaves running (`&`) is stopped by group
            process = subprocess.Popen(
                ["bash", "-e", "-o", "pipefail", "-c", script],
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.groups.append(process.pid)
            try:
                code = process.wait(timeout=BLOCK_TIMEOUT)
            except subprocess.TimeoutExpired:
                code = -1
        if code != 0:
            time.sleep(0.2)  # let a background service finish its last words
            text = log.read_text(encoding="utf-8", errors="replace")
            self._fail(block, f"exit {code}", text)

    def _python(self, block: Block, code: str) -> None:
        if self.python is None:
            self.python_log = (self.logs / "python.log").open("w", encoding="utf-8")
            self.python = subprocess.Popen(
                [sys.executable, "-c", _DRIVER],
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.python_log,
                text=True,
                start_new_session=True,
            )
            self.groups.append(self.python.pid)
        assert self.python.stdin is not None and self.python.stdout is not None
        self.python.stdin.write(json.dumps({"code": code, "name": block.where}) + "\n")
        self.python.stdin.flush()
        answer = self.python.stdout.readline()
        if not answer:
            self._fail(block, "the interpreter died", (self.logs / "python.log").read_text())
        reply = json.loads(answer)
        if not reply["ok"]:
            self._fail(block, "an exception", reply["output"])

    def _fail(self, block: Block, what: str, output: str) -> None:
        pytest.fail(
            f"{block.where}: the ```{block.language} block failed ({what}):\n{block.code}"
            f"--- output (last 4000 characters) ---\n{output[-4000:]}",
            pytrace=False,
        )

    def stop(self) -> None:
        if self.python is not None:  # it ends with its input; reaped, it is no zombie below
            assert self.python.stdin is not None and self.python.stdout is not None
            self.python.stdin.close()
            try:
                self.python.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.python.kill()
                self.python.wait()
            self.python.stdout.close()
        for group in self.groups:
            try:
                os.killpg(group, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 5
        for group in self.groups:
            while time.monotonic() < deadline and _alive(group):
                time.sleep(0.05)
            if _alive(group):
                os.killpg(group, signal.SIGKILL)
        if self.python_log is not None:
            self.python_log.close()


def _alive(group: int) -> bool:
    """Whether a process group (a session's leader id: also its first process) has members."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


# The python blocks' interpreter: one block per JSON line in, {"ok", "output"} per line out.
_DRIVER = """
import contextlib, io, json, sys, traceback
namespace = {"__name__": "__main__"}
protocol = sys.stdout
for line in sys.stdin:
    block = json.loads(line)
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            exec(compile(block["code"], block["name"], "exec"), namespace)
        ok = True
    except BaseException:
        ok = False
        output.write(traceback.format_exc())
    protocol.write(json.dumps({"ok": ok, "output": output.getvalue()}) + "\\n")
    protocol.flush()
"""


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    (tmp_path / "work").mkdir()
    (tmp_path / "logs").mkdir()
    running = Session(tmp_path / "work", tmp_path / "logs")
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.slow  # about two minutes for all: services start, keys are made
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_the_documents_commands_and_programs_run(document: Path, session: Session) -> None:
    for block in fenced_blocks(document):
        if block.runs:
            session.run(block)


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {m[1] for m in re.finditer(r"^([A-Za-z][\w-]*):", text, re.MULTILINE)}


def test_commands_shown_but_not_run_name_real_targets_and_extras() -> None:
    extras = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    targets = _make_targets()
    shown = [b for d in DOCUMENTS for b in fenced_blocks(d) if b.language in RUN and not b.runs]
    assert shown, "the README shows how to install"
    for block in shown:
        for line in block.code.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["make"]:
                for target in words[1:] or ["all"]:
                    assert target in targets, f"{block.where}: no make target {target!r}"
            for word in words:
                if word.startswith("vcred["):
                    named = set(word.removeprefix("vcred[").removesuffix("]").split(","))
                    assert named <= extras, f"{block.where}: no such extra in {word!r}"


def test_blocks_are_found_with_their_lines(tmp_path: Path) -> None:
    document = tmp_path / "x.md"
    document.write_text(
        "# x\n\n```sh\necho one\n```\n\n- item\n\n  ```python norun\n  print(2)\n  ```\n"
        "```text\nout\n```\n"
    )
    found = fenced_blocks(document)
    assert [(b.line, b.language, b.options, b.code) for b in found] == [
        (4, "sh", (), "echo one\n"),
        (10, "python", ("norun",), "print(2)\n"),
        (13, "text", (), "out\n"),
    ]
    assert [b.runs for b in found] == [True, False, False]
    assert console_commands("$ a \\\n  b\nout\n$ c\n") == "a \\\n  b\nc\n"


def test_a_failing_block_names_its_document_line_and_output(session: Session) -> None:
    document = session.logs / "broken.md"
    document.write_text("# broken\n\n```sh\necho before\nfalse\n```\n\n```python\n1 / 0\n```\n")
    shell, python = fenced_blocks(document)
    with pytest.raises(
        pytest.fail.Exception, match=r"broken\.md:4: the ```sh block failed \(exit 1\)"
    ):
        session.run(shell)
    with pytest.raises(pytest.fail.Exception, match=r"(?s)broken\.md:9.*ZeroDivisionError"):
        session.run(python)


def test_what_a_document_starts_in_the_background_is_stopped(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    running = Session(tmp_path / "work", tmp_path)
    document = tmp_path / "service.md"
    document.write_text("```sh\nsleep 300 &\necho $! > pid\n```\n")
    running.run(fenced_blocks(document)[0])
    pid = int((tmp_path / "work" / "pid").read_text())
    assert _running(pid)  # after its block ended
    running.stop()
    deadline = time.monotonic() + 10  # until its new parent has reaped it
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.05)
    assert not _running(pid)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
