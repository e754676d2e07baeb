"""Writes one engine version's connector manifest (JSON on stdout) from its catalogue
lines (tab-separated, on stdin) and the jars mvn copied into the version's directory.

Usage: manifest.py FLINK_VERSION DIR < lines
"""

import hashlib
import json
import os
import sys


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main():
    version, directory = sys.argv[1], sys.argv[2]
    entries = {}
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        _, identifiers, kind, coordinates = line.split("\t")[:4]
        group, artifact, artifact_version = coordinates.split(":")
        jar = f"{artifact}-{artifact_version}.jar"
        path = os.path.join(directory, jar)
        if not os.path.isfile(path):
            sys.exit(f"manifest.py: {jar} was not copied into {directory}")
        entry = entries.setdefault(
            (identifiers, kind),
            {"identifiers": identifiers.split(","), "kind": kind, "jars": []},
        )
        entry["jars"].append(
            {
                "file": jar,
                "sha256": sha256(path),
                "bytes": os.path.getsize(path),
                "maven": coordinates,
            }
        )
    json.dump(
        {"flink_version": version, "entries": list(entries.values())},
        sys.stdout,
        indent=2,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
