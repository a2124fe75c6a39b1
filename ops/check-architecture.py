#!/usr/bin/env python3
"""Checks that ARCHITECTURE.md's module table is Package.swift's graph of Triton's own modules.

Every non-test target of Package.swift must have a row whose "may import" cell lists exactly its
dependencies on other targets of the package (products of other packages are left out), every row
must name a target, and no source file may import a module of the package that its target does not
depend on. Exits 1 naming each difference."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
package = (root / "Package.swift").read_text()
architecture = (root / "ARCHITECTURE.md").read_text()

# Targets of Package.swift: name -> set of in-package dependencies.
targets = {}
test_targets = {}
starts = list(re.finditer(r"\.(target|executableTarget|systemLibrary|testTarget)\(\s*name:\s*\"(\w+)\"", package))
for index, match in enumerate(starts):
    end = starts[index + 1].start() if index + 1 < len(starts) else len(package)
    body = package[match.end():end]
    deps = set()
    found = re.search(r"dependencies:\s*\[(.*?)\]", body, re.S)
    if found:
        text = re.sub(r"\.product\([^)]*\)", "", found.group(1))
        deps = set(re.findall(r"\"(\w+)\"", text))
    (test_targets if match.group(1) == "testTarget" else targets)[match.group(2)] = deps

block = re.search(r"<!-- module-graph: begin -->(.*?)<!-- module-graph: end -->", architecture, re.S)
if not block:
    sys.exit("ARCHITECTURE.md: no module-graph block")
documented = {}
for line in block.group(1).splitlines():
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    if len(cells) != 3 or not cells[0].startswith("`"):
        continue
    name = cells[0].strip("`")
    documented[name] = set(re.findall(r"`(\w+)`", cells[2]))

problems = []
for name, deps in sorted(targets.items()):
    if name not in documented:
        problems.append(f"{name}: a target of Package.swift with no row in ARCHITECTURE.md")
    elif documented[name] != deps:
        missing = sorted(deps - documented[name])
        extra = sorted(documented[name] - deps)
        problems.append(f"{name}: Package.swift imports {missing or '—'} not listed; ARCHITECTURE.md lists {extra or '—'} not imported")
# The imports the code writes: a module of the package may only be imported where Package.swift (and
# so this file) allows it, even when SwiftPM would find it as a transitive dependency.
for folder, name, deps in [("Sources", *item) for item in sorted(targets.items())] + [
    ("Tests", *item) for item in sorted(test_targets.items())
]:
    for source in sorted((root / folder / name).rglob("*.swift")):
        for imported in re.findall(r"^(?:@\w+(?:\([^)]*\))?\s+)*(?:public |internal |package )?import (\w+)", source.read_text(), re.M):
            if imported in targets and imported != name and imported not in deps:
                problems.append(f"{source.relative_to(root)}: imports {imported}, which {name} may not import")
# The CLI appends no intent to the log itself: its flow and instance commands are clients of the API,
# and `triton demo` goes through the intent layer (TritonEngine's Intents). Only the engine's own
# command handler calls write events.
writes = re.compile(r"\b(?:handler|CommandHandler\([^)]*\))\s*\.\s*(?:send|create|createFlow|requestDeletion|handle|endFlow)\(|\.append\(to:")
for source in sorted((root / "Sources" / "triton").rglob("*.swift")):
    for number, line in enumerate(source.read_text().splitlines(), 1):
        if writes.search(line):
            problems.append(f"{source.relative_to(root)}:{number}: the CLI writes to the log directly (send intents through the API or TritonEngine's Intents)")
for name in sorted(set(documented) - set(targets)):
    problems.append(f"{name}: a row of ARCHITECTURE.md that is not a target of Package.swift")

if problems:
    print("ops/check-architecture.py: the architecture does not hold:", *problems, sep="\n  ")
    sys.exit(1)
print(f"ops/check-architecture.py: the module graph of ARCHITECTURE.md matches Package.swift ({len(targets)} modules)")
