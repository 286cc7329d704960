#!/usr/bin/env python3
"""Runs clang-tidy-14 over scopekit's sources in parallel, remembering what was already clean.

    python3 .ci/tidy.py BUILD_DIR FILE...

Each FILE is checked with the compile command BUILD_DIR/compile_commands.json has for it
(warnings are errors). A file is skipped when the same check passed before on the same input:
the key is a hash of the clang-tidy binary's version, every .clang-tidy on the way from the
file to the root, the compile command (without its output paths), and the text the file reads:
the source and every header it includes, as the build's last compile of it recorded them
(`ninja -t deps`), or, where the build has no valid record, the file preprocessed with its
comments (so a NOLINT counts either way). The source tree's own path is replaced by a placeholder
so that a clone in another folder finds what this one checked. Clean results are remembered in
$SCOPEKIT_TIDY_CACHE (default ~/.cache/scopekit-tidy); failures never are. Prints one line per
file checked or skipped and every diagnostic; exits 1 if any file has a finding.
"""
import concurrent.futures
import hashlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

TIDY = "clang-tidy-14"


def tidy_configs(path: Path) -> bytes:
    """The text of every .clang-tidy from the file's folder up to the filesystem root."""
    out = b""
    for folder in [path.parent, *path.parent.parents]:
        config = folder / ".clang-tidy"
        if config.is_file():
            out += str(config).encode() + b"\0" + config.read_bytes() + b"\0"
    return out


def preprocess_command(entry: dict) -> list:
    """The compile command with -c ... -o ... turned into -E -C to stdout."""
    args = entry.get("arguments") or shlex.split(entry["command"])
    # Drop a compiler launcher (ccache, env VAR=... ccache) in front of the compiler.
    while args and (os.path.basename(args[0]) in ("ccache", "env") or "=" in args[0]):
        args = args[1:]
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD"):
            continue
        out.append(a)
    return out + ["-E", "-C", "-o", "-"]


def object_path(entry: dict):
    """The object file the compile command writes (its -o argument), or None."""
    args = entry.get("arguments") or shlex.split(entry["command"])
    for flag, value in zip(args, args[1:]):
        if flag == "-o":
            return value
    return None


def recorded_inputs(build_dir: str) -> dict:
    """Object file -> the files its last compile read, from ninja's dependency log (only the
    records ninja still calls VALID, that is, not older than the object)."""
    run = subprocess.run(["ninja", "-C", build_dir, "-t", "deps"], capture_output=True,
                         text=True, check=False)
    inputs, current = {}, None
    for line in run.stdout.splitlines() if run.returncode == 0 else []:
        if line and not line[0].isspace():
            name, _, status = line.partition(": #deps")
            current = name if status.rstrip().endswith("(VALID)") else None
            if current is not None:
                inputs[current] = []
        elif line.strip() and current is not None:
            inputs[current].append(line.strip())
    return inputs


def input_text(entry: dict, inputs: dict):
    """The text the compile reads, to be hashed: the recorded inputs' paths and contents, else
    the preprocessed file; None if neither can be had."""
    recorded = inputs.get(object_path(entry) or "")
    if recorded:
        parts = []
        try:
            for name in recorded:
                with open(os.path.join(entry["directory"], name), "rb") as f:
                    parts.append(name.encode() + b"\0" + f.read())
            return b"\0".join(parts)
        except OSError:
            pass  # a header gone since the build: read the file as it is now
    pre = subprocess.run(preprocess_command(entry), cwd=entry["directory"],
                         capture_output=True, check=False)
    return pre.stdout if pre.returncode == 0 else None


def check(entry: dict, version: bytes, cache: Path, build_dir: str, inputs: dict) -> tuple:
    path = Path(entry["file"])
    text = input_text(entry, inputs)
    key = None
    if text is not None:
        root = os.path.realpath(os.getcwd()).encode()
        h = hashlib.sha256()
        for part in (version, tidy_configs(path), " ".join(preprocess_command(entry)).encode(),
                     text):
            h.update(part.replace(root, b"<source>"))
            h.update(b"\0")
        key = h.hexdigest()
        if (cache / key).exists():
            return (str(path), True, "cached")
    run = subprocess.run([TIDY, "-p", build_dir, "--quiet", "--warnings-as-errors=*", str(path)],
                         capture_output=True, text=True, check=False)
    if run.returncode == 0 and key is not None:
        (cache / key).touch()
    return (str(path), run.returncode == 0, (run.stdout + run.stderr).strip())


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    build_dir, files = sys.argv[1], sys.argv[2:]
    with open(os.path.join(build_dir, "compile_commands.json"), encoding="utf-8") as f:
        commands = {os.path.realpath(e["file"]): e for e in json.load(f)}
    cache = Path(os.environ.get("SCOPEKIT_TIDY_CACHE",
                                os.path.expanduser("~/.cache/scopekit-tidy")))
    cache.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([TIDY, "--version"], capture_output=True, check=True).stdout
    inputs = recorded_inputs(build_dir)
    entries = []
    for name in files:
        entry = commands.get(os.path.realpath(name))
        if entry is None:
            print(f"tidy: {name} is not in {build_dir}/compile_commands.json", file=sys.stderr)
            return 1
        entries.append(entry)
    failed = 0
    cached = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = pool.map(lambda e: check(e, version, cache, build_dir, inputs), entries)
        for path, ok, output in results:
            if output == "cached":
                cached += 1
                continue
            print(f"tidy: {path}: {'clean' if ok else 'FINDINGS'}")
            if not ok:
                failed += 1
                print(output)
    print(f"tidy: {len(entries)} files, {cached} unchanged since a clean check, {failed} with findings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
