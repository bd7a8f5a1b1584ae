"""Long loop bodies as calls of shared scalar functions (compile time linear and small).

Numba's cost is roughly fixed per generated statement (typing, lowering, LLVM), so a graph
of N nodes fused into one loop body costs O(N) statements. Long bodies are mostly repeats
(the layers of a chain, and the same steps again in its backward pass), so a run of pure
scalar statements (``e12 = math.tanh(e11)``) is cut into segments, each segment written
with its names renumbered (``x0, x1, ...``), and segments with the same text become one
``@njit`` function called at every place it occurs: Numba types, lowers and optimises it
once.

Where a run is cut decides whether repeats line up: a cut goes after the statement whose
window of the last ``WINDOW`` statement shapes (text with names blanked) has the smallest
hash among the candidate lengths ``MIN_LENGTH..MAX_LENGTH``. In a periodic run that smallest
window falls at the same phase of every period, so every segment after the first starts at
the same phase and has the same text.

The pass works on the generated lines: a statement qualifies when it assigns one local name
(``a``, ``e`` or ``p`` followed by digits) from an expression of local names, numbers and
``math.``/``np.`` functions, with no indexing. A segment's arguments are the names it reads
that are defined before it; its results are the names it defines that any later line reads.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

MIN_RUN = 128     # shorter runs of statements stay as they are
MIN_LENGTH = 64   # statements per segment: at least ...
MAX_LENGTH = 192  # ... and at most
WINDOW = 3        # statements whose shapes choose a cut

_NAME = re.compile(r"\b[aep]\d+(?:_\d+)*\b")
_STATEMENT = re.compile(r"^( *)([aep]\d+(?:_\d+)*) = ([^\[\];:]*)$")


def segment(lines: list[str], header_flags: str) -> tuple[list[str], list[str]]:
    """``(functions, lines)``: the module-level segment functions, and the kernel's body
    lines with each long run of scalar statements replaced by calls of them."""
    functions: dict[str, str] = {}  # parameters and body (names renumbered) -> its name
    out: list[str] = []
    last_read = _last_reads(lines)
    k = 0
    while k < len(lines):
        end = _run_end(lines, k)
        if end - k < MIN_RUN:
            out.append(lines[k])
            k += 1
            continue
        out.extend(_replace_run(lines, k, end, functions, last_read))
        k = end
    defs = [_definition(name, body, header_flags) for body, name in functions.items()]
    return defs, out


def _run_end(lines: list[str], start: int) -> int:
    """The end of the run of scalar statements at one indentation starting at ``start``."""
    match = _STATEMENT.match(lines[start])
    if match is None:
        return start + 1
    indent, end = match.group(1), start + 1
    while end < len(lines):
        following = _STATEMENT.match(lines[end])
        if following is None or following.group(1) != indent:
            break
        end += 1
    return end


def _replace_run(lines: list[str], start: int, end: int, functions: dict[str, str],
                 last_read: dict[str, int]) -> list[str]:
    """The calls replacing ``lines[start:end]``, segment by segment."""
    shapes = [_NAME.sub("_", _STATEMENT.match(line).group(3)) for line in lines[start:end]]
    calls = []
    for first, last in _cuts(shapes):
        after = start + last  # lines from here on read the segment's results
        calls.append(_call(lines[start + first:after],
                           lambda name, after=after: last_read.get(name, -1) >= after,
                           functions))
    return [call for call in calls if call]


def _last_reads(lines: list[str]) -> dict[str, int]:
    """The index of the last line reading each name (its first name on an assignment's
    left is the name it defines; a name read on its own line counts)."""
    last: dict[str, int] = {}
    for index, line in enumerate(lines):
        statement = _STATEMENT.match(line)
        text = statement.group(3) if statement else line
        for name in _NAME.findall(text):
            last[name] = index
    return last


def _cuts(shapes: list[str]) -> list[tuple[int, int]]:
    """``(first, last)`` statement ranges covering the run (see the module docstring)."""
    windows = [_hash("|".join(shapes[max(0, k - WINDOW + 1):k + 1])) for k in range(len(shapes))]
    cuts, first = [], 0
    while len(shapes) - first > MAX_LENGTH:
        candidates = range(first + MIN_LENGTH - 1, first + MAX_LENGTH)
        last = min(candidates, key=lambda k: (windows[k], k)) + 1
        cuts.append((first, last))
        first = last
    cuts.append((first, len(shapes)))
    return cuts


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _call(segment_lines: list[str], read_later: Callable[[str], bool],
          functions: dict[str, str]) -> str:
    """One call of the (possibly shared) function computing ``segment_lines``."""
    indent = _STATEMENT.match(segment_lines[0]).group(1)
    defined: list[str] = []
    arguments: list[str] = []
    renamed: dict[str, str] = {}
    body = []
    for line in segment_lines:
        target, expr = _STATEMENT.match(line).group(2, 3)
        for name in _NAME.findall(expr):
            if name not in renamed:
                arguments.append(name)
                renamed[name] = f"x{len(renamed)}"
        expr = _NAME.sub(lambda m: renamed[m.group(0)], expr)
        renamed[target] = f"x{len(renamed)}"
        defined.append(target)
        body.append(f"    {renamed[target]} = {expr}")
    results = [name for name in defined if read_later(name)]
    if not results:  # nothing of it is read again
        return ""
    body.append(f"    return ({''.join(renamed[name] + ', ' for name in results)})")
    params = ", ".join(renamed[name] for name in arguments)
    text = f"({params}):\n" + "\n".join(body)  # the function after its name
    name = functions.setdefault(text, f"seg{len(functions)}")
    targets = "".join(name_ + ", " for name_ in results)
    return f"{indent}({targets}) = {name}({', '.join(arguments)})"


def _definition(name: str, text: str, header_flags: str) -> str:
    return f"@numba.njit({header_flags})\ndef {name}{text}\n"
