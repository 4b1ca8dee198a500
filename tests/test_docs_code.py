"""The ```python blocks of README.md and docs/*.md run as tests (issue 24, item 6b).

A documented promise must not break silently: every fenced block whose info string is
``python`` is executed, exactly as written (no patched defaults, no fewer epochs). Blocks
fenced otherwise (```bash, ```text, a bare ```, MyST directives such as ```{toctree}) are not
Python and are not run.

- The blocks of one markdown file run in order in ONE namespace, as a script would: later
  blocks use the names earlier ones define, and ``__name__ == "__main__"``. One test per file
  (id: the file's path). A failing block does not stop the file: the blocks after it run too,
  and the failure message lists every failing block as ``file:line`` (the line of its
  opening fence) with its traceback, whose frames point at the markdown file's own lines.
- The working directory is a fresh temporary directory (files the snippets write stay out
  of the repository), matplotlib uses the Agg backend, and connections to anything but the
  local machine raise (nothing may download: the package ships its data and scikit-learn's
  bundled datasets are local).
- A block that cannot run here (a CUDA GPU, several processes under torchrun, a remote
  cluster) is skipped only through an explicit marker on the line before its fence::

      <!-- docs-test: skip (needs a CUDA GPU) -->
      ```python

  Each skipped block is reported as a skipped test of its own, ``file:line``, with the reason.
- A block whose documented outcome is an exception (the error a wrong call gets) carries
  ``<!-- docs-test: raises ValueError -->`` on the line before its fence: it must raise that
  exception (the class or one of its bases, by name), and fails if it raises nothing or
  something else.
- Global state the snippets touch (torch's thread count, torch's and numpy's global random
  states, matplotlib figures) is restored after each file, so other tests do not see it.
"""

import os
import re
import socket
import sys
import textwrap
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_MARKER = re.compile(r"<!--\s*docs-test:(?P<body>.*?)-->")
_SKIP = re.compile(r"^\s*skip\s*\((?P<reason>.+)\)\s*$")
_RAISES = re.compile(r"^\s*raises\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*$")


@dataclass
class Block:
    path: Path  # the markdown file
    line: int  # 1-based line of the opening fence
    source: str  # the code, dedented, without the fences
    skip: str | None  # the reason of a skip marker, or None
    raises: str | None  # the exception a raises marker names, or None

    @property
    def where(self):
        return f"{_rel(self.path)}:{self.line}"


def _rel(path):
    return path.relative_to(ROOT).as_posix()


def parse_blocks(path):
    """The fenced ```python blocks of a markdown file, in order.

    A fence opens with 3 or more backticks (or tildes) and closes with at least as many of
    the same character and nothing after them (CommonMark). A ``docs-test`` marker (skip or
    raises) must be on the last non-blank line before a ```python fence; anything else
    raises, so a mistyped or stray marker cannot silently leave a block unrun or untested.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        char, length = opening["fence"][0], len(opening["fence"])
        info = opening["info"].strip()
        j = i + 1
        while j < len(lines):
            closing = _FENCE.match(lines[j])
            if (
                closing is not None
                and closing["fence"][0] == char
                and len(closing["fence"]) >= length
                and not closing["info"].strip()
            ):
                break
            j += 1
        if info.split()[:1] == ["python"]:
            skip = raises = None
            k = i - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            marker = _MARKER.search(lines[k]) if k >= 0 else None
            if marker is not None:
                skip_match = _SKIP.match(marker["body"])
                raises_match = _RAISES.match(marker["body"])
                if skip_match is None and raises_match is None:
                    raise ValueError(
                        f"{_rel(path)}:{k + 1}: unknown docs-test marker {marker[0]!r}; known: "
                        "'<!-- docs-test: skip (reason) -->', '<!-- docs-test: raises Name -->'"
                    )
                skip = skip_match and skip_match["reason"].strip()
                raises = raises_match and raises_match["name"]
            source = textwrap.dedent("\n".join(lines[i + 1 : j]))
            blocks.append(Block(path, i + 1, source, skip, raises))
        i = j + 1
    # markers that do not sit right before a ```python fence
    used = {b.line for b in blocks if b.skip is not None or b.raises is not None}
    for n, text in enumerate(lines, start=1):
        if _MARKER.search(text):
            following = n
            while following < len(lines) and not lines[following].strip():
                following += 1
            if following + 1 not in used:
                raise ValueError(
                    f"{_rel(path)}:{n}: a docs-test marker must sit on the line before a "
                    "```python fence"
                )
    return blocks


ALL_BLOCKS = {path: parse_blocks(path) for path in DOC_FILES}
FILES_WITH_CODE = [path for path, blocks in ALL_BLOCKS.items() if blocks]
SKIPPED = [b for blocks in ALL_BLOCKS.values() for b in blocks if b.skip is not None]


def test_every_python_fence_is_collected():
    """The parser finds every ```python fence (a check on the parser, not on the docs)."""
    for path, blocks in ALL_BLOCKS.items():
        fences = [
            n
            for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            if re.match(r"^[ \t]*(`{3,}|~{3,})\s*python\b", text)
        ]
        assert [b.line for b in blocks] == fences, _rel(path)
    assert sum(map(len, ALL_BLOCKS.values())) > 0


def _local_only(connect):
    """``socket.socket.connect`` refusing every address but the local machine's."""

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in ("localhost", "127.0.0.1", "::1", "0.0.0.0", "") and not str(
                host
            ).startswith("127."):
                raise OSError(
                    f"the docs tests allow no network access: a snippet connected to {address}"
                )
        return connect(self, address)

    return guarded


def _format_failure(block, exc):
    """The traceback from the block's own frame on (the test's frames left out)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != str(block.path):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


@pytest.fixture
def doc_sandbox(tmp_path, monkeypatch):
    """A temporary working directory, Agg, no network; global state restored afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("Agg", force=True)
    monkeypatch.setattr(socket.socket, "connect", _local_only(socket.socket.connect))
    n_threads = torch.get_num_threads()
    torch_rng = torch.random.get_rng_state()
    numpy_rng = np.random.get_state()
    yield tmp_path
    torch.set_num_threads(n_threads)
    torch.random.set_rng_state(torch_rng)
    np.random.set_state(numpy_rng)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.mark.parametrize("path", FILES_WITH_CODE, ids=[_rel(p) for p in FILES_WITH_CODE])
def test_doc_code(path, doc_sandbox):
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    failures, timings = [], []
    for block in ALL_BLOCKS[path]:
        if block.skip is not None:
            timings.append(f"  {block.where:28} skipped ({block.skip})")
            continue
        # padded with blank lines so that the code's line numbers are the markdown file's:
        # tracebacks then name the file and show the documented line
        code = compile("\n" * block.line + block.source, str(block.path), "exec")
        note = (
            f" (after the failure of {', '.join(f.where for f, _ in failures)} in this file: "
            "it may follow from it)"
            if failures
            else ""
        )
        start = time.perf_counter()
        try:
            exec(code, namespace)
        except BaseException as exc:  # noqa: BLE001 -- every block's failure is reported
            if isinstance(exc, (KeyboardInterrupt, pytest.fail.Exception)):
                raise
            if block.raises not in {cls.__name__ for cls in type(exc).__mro__}:
                expected = f", expected {block.raises}" if block.raises else ""
                failures.append(
                    (
                        block,
                        f"{block.where}: block failed{expected}{note}\n"
                        + _format_failure(block, exc),
                    )
                )
        else:
            if block.raises is not None:
                failures.append(
                    (block, f"{block.where}: raised nothing, expected {block.raises}{note}\n")
                )
        timings.append(f"  {block.where:28} {time.perf_counter() - start:7.2f} s")
    print(f"{_rel(path)}: time per block\n" + "\n".join(timings))
    if failures:
        pytest.fail(
            f"{len(failures)} of {len(ALL_BLOCKS[path])} python blocks of {_rel(path)} "
            "failed:\n\n" + "\n".join(message for _, message in failures),
            pytrace=False,
        )


@pytest.mark.parametrize("block", SKIPPED, ids=[b.where for b in SKIPPED])
def test_skipped_doc_block(block):
    """Each block skipped by a marker shows up as a skip, with its place and reason."""
    pytest.skip(f"{block.where}: {block.skip}")
