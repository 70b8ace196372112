"""migrations/current/schema.sql is what the migrations produce: an empty
database, migrated, dumps to exactly that file.  The dump and its
normalization are deploy/schema-dump.sh's (--dump), the same that
`make schema` writes the file with."""
import difflib
import subprocess

import pytest

from conftest import ROOT

SCHEMA = ROOT / "migrations" / "current" / "schema.sql"
DUMP = ROOT / "deploy" / "schema-dump.sh"


def test_schema_file_is_what_the_migrations_produce(empty_db):
    empty_db.mspctl("migrate", "--dir", ROOT / "migrations", check=True)
    proc = subprocess.run([DUMP, "--dump", empty_db.owner_url],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout, "deploy/schema-dump.sh --dump printed nothing"

    checked_in = SCHEMA.read_text() if SCHEMA.exists() else ""
    if proc.stdout != checked_in:
        diff = "".join(difflib.unified_diff(
            checked_in.splitlines(keepends=True), proc.stdout.splitlines(keepends=True),
            fromfile="migrations/current/schema.sql (checked in)",
            tofile="migrations/current/schema.sql (from the migrations)"))
        pytest.fail("migrations/current/schema.sql is not what the migrations produce:"
                    " run `make schema` and commit it.\n" + diff, pytrace=False)

