"""scripts/backup.sh and scripts/restore.sh, round trip on a cluster of the test's own holding
the demo: the restored database has every table's rows of the backup's snapshot (even though
the source changed after the backup), its audit chain verifies, and a damaged dump is refused
before anything is created (docs/runbooks/backup-restore.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, DemoDatabase

pytestmark = [pytest.mark.postgres]


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own scripts and arguments)
        ["bash", str(ROOT / "scripts" / script), *args],  # noqa: S607
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def counts(demo: DemoDatabase, dbname: str) -> dict[str, int]:
    tables = demo.cluster.psql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", dbname
    ).split()
    return {t: int(demo.cluster.psql(f'SELECT count(*) FROM "{t}"', dbname)) for t in tables}


def test_backup_restores_into_a_new_database_with_every_row(
    demo_database: DemoDatabase, tmp_path: Path
) -> None:
    demo = demo_database
    # The demo's last events were written seconds ago, inside the seal's grace time; age them
    # past it instead of waiting, so the backup holds a sealed chain for restore.sh to verify.
    # Only those not sealed yet: the demo replays its timeline in the past, so most of its
    # events were old enough for the fixture's seal already, and a sealed event never changes.
    # Events are written once (audit migration 0008): the test, as the table's owner, lifts
    # the trigger for its own statement.
    demo.cluster.psql(
        "BEGIN; ALTER TABLE audit_auditevent DISABLE TRIGGER audit_events_written_once;"
        " UPDATE audit_auditevent SET at = at - interval '1 minute'"
        " WHERE id > COALESCE((SELECT max(last_event_id) FROM audit_auditchainhead), 0);"
        " ALTER TABLE audit_auditevent ENABLE TRIGGER audit_events_written_once; COMMIT;",
        "kattoo",
    )
    sealed = demo.manage("audit_seal")
    assert int(sealed.split()[-1]) > 0, sealed
    at_backup = counts(demo, "kattoo")
    assert at_backup["audit_auditevent"] > 0 and at_backup["catalog_school"] > 0

    made = run("backup.sh", str(tmp_path), env=demo.env)
    assert made.returncode == 0, made.stderr
    dump = Path(made.stdout.strip().splitlines()[-1])
    assert dump.exists() and dump.name.startswith("kattoo-") and dump.suffix == ".dump"
    manifest = dict(
        (table, int(n))
        for table, n in (
            line.split() for line in dump.with_suffix(".counts").read_text().split("\n") if line
        )
    )
    assert manifest == at_backup
    assert dump.with_suffix(".sha256").read_text().count("  ") == 2

    # The source moves on; the backup keeps its snapshot.
    demo.manage("audit_seal")
    demo.cluster.psql(
        "INSERT INTO catalog_region (soate, name_ky, name_ru, name_en)"
        " VALUES ('41799000000000', 'x', 'x', 'x')",
        "kattoo",
    )

    restored = run("restore.sh", str(dump), "kattoo_restored", env=demo.env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "audit chain intact" in restored.stdout and "restore: OK" in restored.stdout
    assert counts(demo, "kattoo_restored") == at_backup
    checked = int(restored.stdout.split("audit chain intact: ")[1].split()[0])
    assert checked > 0

    # The restored copy refuses an edit as the source does (the trigger came back with it)…
    with pytest.raises(subprocess.CalledProcessError) as refused:
        demo.cluster.psql(
            "UPDATE audit_auditevent SET action = 'edited'"
            " WHERE id = (SELECT min(id) FROM audit_auditevent)",
            "kattoo_restored",
        )
    assert "audit events are written once" in refused.value.stderr
    # … and the verification means something: an edit made with the trigger off is named.
    demo.cluster.psql(
        "BEGIN; ALTER TABLE audit_auditevent DISABLE TRIGGER audit_events_written_once;"
        " UPDATE audit_auditevent SET action = 'edited'"
        " WHERE id = (SELECT min(id) FROM audit_auditevent); COMMIT;",
        "kattoo_restored",
    )
    env = {**demo.env, "DATABASE_URL": demo.cluster.url("kattoo_restored")}
    tampered = subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert tampered.returncode != 0 and "audit chain broken" in tampered.stderr
    assert counts(demo, "kattoo")["catalog_region"] == at_backup["catalog_region"] + 1

    # Never over an existing database.
    again = run("restore.sh", str(dump), "kattoo_restored", env=demo.env)
    assert again.returncode != 0 and "already exists" in again.stderr


def test_a_damaged_dump_is_refused_before_anything_is_created(
    demo_database: DemoDatabase, tmp_path: Path
) -> None:
    demo = demo_database
    made = run("backup.sh", str(tmp_path), env=demo.env)
    assert made.returncode == 0, made.stderr
    dump = Path(made.stdout.strip().splitlines()[-1])
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))

    refused = run("restore.sh", str(dump), "kattoo_damaged", env=demo.env)
    assert refused.returncode != 0 and "FAILED" in refused.stdout + refused.stderr
    exists = demo.cluster.psql("SELECT count(*) FROM pg_database WHERE datname = 'kattoo_damaged'")
    assert exists == "0"
    shutil.rmtree(tmp_path, ignore_errors=True)
