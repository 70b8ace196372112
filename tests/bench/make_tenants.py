#!/usr/bin/python3
"""Writes N benchmark tenant files, client-0001.json ... client-NNNN.json
(or from client-FIRST.json on).

    make_tenants.py TEMPLATE OUTDIR N [FIRST]

Each is the template (tenants/acme.json) with its own slug (equal to the
file name), name and ticket prefix (T0001 ...), and a timezone and
co-management model taken in turn from short lists, so that the tenants
are not all alike.
"""
import json
import pathlib
import sys

TIMEZONES = ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "America/Los_Angeles",
             "Europe/London", "Australia/Sydney", "America/Chicago", "Europe/Paris"]
MODELS = ["co_managed", "fully_managed", "co_managed", "staff_augmentation", "on_demand",
          "co_managed", "project"]


def main():
    template, outdir, count = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3])
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    base = json.loads(pathlib.Path(template).read_text())
    outdir.mkdir(parents=True, exist_ok=True)
    for i in range(first, first + count):
        doc = dict(base)
        doc["slug"] = f"client-{i:04d}"
        doc["name"] = f"Benchmark Client {i:04d}"
        doc["ticket_prefix"] = f"T{i:04d}"
        doc["timezone"] = TIMEZONES[i % len(TIMEZONES)]
        doc["co_management_model"] = MODELS[i % len(MODELS)]
        (outdir / f"{doc['slug']}.json").write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
