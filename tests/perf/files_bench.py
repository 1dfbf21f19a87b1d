"""Institution files (SPEC D1–D2) under load: `python -m tests.perf.files_bench`.

Three measurements, figures only (nothing asserts a timing):

1. 加密下載 packaging: a 50 MB file through packaging.write_zip with a password
   (AES-256) against pyzipper writing the same file straight from disk
   (AESZipFile.write) in the same run, 3 rounds alternating; target: median
   ratio <= 1.3. The member is `data.txt`, so both deflate (write_zip stores
   only .pdf/.zip/… ). The content alternates 1 MB of os.urandom bytes with
   1 MB of CSV-like 申報回饋資料 lines (ASCII codes and numbers, zh-TW item names)
   sliced from a 4 MB pool: half incompressible, half compressible about 3:1.
2. 下載捷徑專區 over 1,000,000 file rows: 1,000 institutions, one big hospital
   with 10% of the rows and the rest on a 1/rank^0.7 curve (medium hospitals,
   a long tail of clinics); ids follow provision time over two years, 3% within
   the 14-day window; of the older rows 0.2% pending, 0.1% refused and 0.3%
   re-served (within the last 60 days). Times institution_files.shortcut_page
   (count + one page + the person's downloads) for the big hospital and the
   median clinic, default and all filters, page 1 and the last page, beside a
   primary-key lookup (InstitutionFile.get_by_id); target: p95 ratio <= 10
   (search_bench's factor for a list page against a lookup, taken here on p95).
3. Peak RSS (VmHWM) of write_zip in a fresh child process for a 1 GB and a
   100 MB file, beside a child that only imports the modules; target: the peak
   above that baseline is the same for both sizes (within 8 MB), i.e. memory
   stays flat. These members are named `data.pdf` (stored, not deflated) to keep the
   run short; the content is the same mix as in 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from datetime import date, timedelta
from pathlib import Path

from peewee import PostgresqlDatabase

from tests.perf.search_bench import p95, timed

MB = 1024 * 1024
PASSWORD = b"A123456789"
AES_TARGET, LIST_TARGET, FLAT_TARGET_MB = 1.3, 10.0, 8
KEEP = timedelta(days=14)
SERVICES = frozenset({"IWF", "RWM", "IPA"})
# service -> (share of rows, category)
SERVICE_MIX = {"IWF": (12, "payment_notice"), "RWM": (5, "claims"), "IPA": (3, "ic_report")}
COLUMNS = ("institution_id", "service_code", "category", "name", "description", "stored_file_id", "fee_month",
           "medical_category", "parts", "provided_at", "available_from", "listed_at", "request_state", "notice",
           "reminders_sent", "first_viewed_by")
ITEMS = ("藥費", "診察費", "檢查費", "處置費", "特材費", "藥事服務費", "病房費", "手術費")


def pad(text: str, width: int) -> str:
    """text left-aligned in `width` terminal columns (CJK characters take two)."""
    return text + " " * max(0, width - sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text))


def write_source(path: Path, size: int, rng: random.Random) -> str:
    """Write `size` bytes of the random/CSV mix to path in 1 MB chunks; returns its SHA-256."""
    lines, total = [], 0
    while total < 4 * MB:
        line = (f"{rng.randint(1, 9999999999):010d},{rng.choice(('11', '12', '21'))},1130{rng.randint(1, 9)},"
                f"{rng.randint(1, 99999):07d},{rng.choice(ITEMS)},{rng.randint(0, 250000)},{rng.randint(0, 999)}\n")
        lines.append(line)
        total += len(line.encode())
    pool = "".join(lines).encode()
    digest, written, n = hashlib.sha256(), 0, 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        while written < size:
            want = min(MB, size - written)
            start = rng.randrange(len(pool) - want)
            chunk = os.urandom(want) if n % 2 == 0 else pool[start:start + want]
            out.write(chunk)
            digest.update(chunk)
            written, n = written + want, n + 1
    return digest.hexdigest()


def stored_member(storage, arcname: str, size: int, rng: random.Random):
    """A blob in storage plus the packaging.Member naming it."""
    from portal.logic.packaging import Member

    key = storage.new_key("institution-files", arcname.rpartition(".")[2])
    return Member(arcname, key, write_source(storage.path(key), size, rng), size)


def bench_packaging(base: Path, size_mb: int, rounds: int) -> None:
    """Measurement 1: write_zip against direct pyzipper, alternating."""
    import pyzipper

    from portal.logic import packaging
    from portal.storage import LocalStorage

    storage = LocalStorage(base / "storage")
    member = stored_member(storage, "data.txt", size_mb * MB, random.Random(1))
    source, out = storage.path(member.key), base / "out.zip"

    def portal_way():
        packaging.write_zip(out, [member], storage, PASSWORD)

    def pyzipper_way():
        with pyzipper.AESZipFile(out, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as zf:
            zf.setpassword(PASSWORD)
            zf.setencryption(pyzipper.WZ_AES, nbits=256)
            zf.write(source, "data.txt")

    print(f"\n1. 加密下載 packaging: {size_mb} MB data.txt (deflate + AES-256), write_zip vs pyzipper "
          f"AESZipFile.write; target median ratio <= {AES_TARGET}")
    print(f"{'round':<7}{'write_zip s':>12}{'pyzipper s':>12}{'ratio':>8}{'zip MB':>9}")
    ratios = []
    for n in range(1, rounds + 1):
        seconds = []
        for fn in (portal_way, pyzipper_way):
            began = time.perf_counter()
            fn()
            seconds.append(time.perf_counter() - began)
            zipped = out.stat().st_size / MB
            out.unlink()
        ratios.append(seconds[0] / seconds[1])
        print(f"{n:<7}{seconds[0]:>12.2f}{seconds[1]:>12.2f}{ratios[-1]:>8.2f}{zipped:>9.1f}")
    ratio = statistics.median(ratios)
    print(f"median ratio {ratio:.2f} ({size_mb / seconds[0]:.0f} MB/s last write_zip): "
          f"{'met' if ratio <= AES_TARGET else 'MISSED'}")
    storage.delete(member.key)


def row_counts(count: int, institutions: int) -> list[int]:
    """Rows per institution: 10% for the first, the rest on a 1/rank^0.7 curve."""
    big = count // 10
    weights = [1 / (k ** 0.7) for k in range(1, institutions)]
    scale = (count - big) / sum(weights)
    counts = [big] + [int(w * scale) for w in weights]
    counts[1] += count - sum(counts)
    return counts


def file_rows(count: int, owners: list[int], stored: list[int], now, rng: random.Random):
    """(COLUMNS) tuples in provision order; see the module docstring for the mix."""
    services = [s for s, (share, _) in SERVICE_MIX.items() for _ in range(share)]
    window, span = int(KEEP.total_seconds()), 730 * 86400
    ages = sorted((rng.randrange(window) if rng.random() < 0.03 else rng.randrange(window, span)
                   for _ in range(count)), reverse=True)
    for i, age in enumerate(ages):
        provided = now - timedelta(seconds=age)
        available, listed, state = provided, provided, ""
        if age >= window:
            pick = rng.random()
            if pick < 0.002:
                state, listed = "pending", now - timedelta(seconds=rng.randrange(2 * 86400))
            elif pick < 0.003:
                state, listed = "refused", now - timedelta(seconds=rng.randrange(30 * 86400))
            elif pick < 0.006:
                state = "served"
                available = listed = now - timedelta(seconds=rng.randrange(60 * 86400))
        service = services[i % len(services)]
        yield (owners[i], service, SERVICE_MIX[service][1], f"{service}_{i:07d}.txt", "", stored[i % len(stored)],
               provided.year * 100 + provided.month, "12", "[]", provided, available, listed, state, "", 0, "")


def seed(count: int, institutions: int, now, rng: random.Random) -> dict:
    """Institutions, stored files, a person, `count` file rows and some downloads; ids and timings."""
    from portal.db import database
    from portal.models import Institution, Person
    from portal.models.files import StoredFile
    from portal.models.institution_files import FileDownload, InstitutionFile

    began = time.perf_counter()
    regions = ("taipei", "north", "central", "south", "kaoping", "east")
    with database.atomic():
        Institution.insert_many([{"code": f"35{n:08d}", "name": f"醫療院所{n}", "region": regions[n % 6]}
                                 for n in range(institutions)]).execute()
        StoredFile.insert_many([{"key": f"institution-files/bench/{n:032x}.txt", "name": f"file{n}.txt",
                                 "content_type": "text/plain", "size": 4096, "sha256": f"{n:064x}"}
                                for n in range(50)]).execute()
        person = Person.create(national_id="A123456789", name="王大明", birth_date=date(1980, 1, 1))
    ids = [i.id for i in Institution.select(Institution.id).order_by(Institution.code)]
    stored = [s.id for s in StoredFile.select(StoredFile.id)]
    counts = row_counts(count, institutions)
    owners = [ids[n] for n, c in enumerate(counts) for _ in range(c)]
    rng.shuffle(owners)
    rows = file_rows(count, owners, stored, now, rng)
    conn = database.obj.connection()
    if isinstance(database.obj, PostgresqlDatabase):
        with conn.cursor() as cur, cur.copy(f"COPY institution_file ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
    else:
        conn.execute("PRAGMA synchronous=OFF")
        sql = f"INSERT INTO institution_file ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        with database.atomic():
            batch = []
            for row in rows:
                batch.append(tuple(v.isoformat(" ") if hasattr(v, "isoformat") else v for v in row))
                if len(batch) == 10_000:
                    conn.executemany(sql, batch)
                    batch = []
            conn.executemany(sql, batch)
        conn.execute("PRAGMA synchronous=NORMAL")
    small = sorted(range(1, institutions), key=lambda n: counts[n])[institutions // 2]
    chosen = {"大醫院": (ids[0], counts[0]), "中位數診所": (ids[small], counts[small])}
    # The person fetched every other file of the chosen institutions' open windows (blue rows).
    recent = InstitutionFile.select(InstitutionFile.id).where(
        InstitutionFile.institution.in_([i for i, _ in chosen.values()]) & (InstitutionFile.available_from > now - KEEP))
    with database.atomic():
        FileDownload.insert_many([{"file": r.id, "person": person.id, "mode": "plain", "at": now}
                                  for r in list(recent)[::2]]).execute()
    if isinstance(database.obj, PostgresqlDatabase):
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        conn.autocommit = False
    else:
        database.execute_sql("ANALYZE")
    return {"seconds": time.perf_counter() - began, "chosen": chosen, "person": person.id}


def bench_listing(name: str, url: str, count: int, institutions: int, repeat: int) -> None:
    """Measurement 2 on one backend: migrate, seed, time the listing pages and the PK lookup."""
    from portal import schema
    from portal.db import bind_database, database
    from portal.logic import institution_files
    from portal.models.base import utcnow
    from portal.models.institution_files import InstitutionFile

    db = bind_database({"DATABASE_URL": url})
    now = utcnow().replace(microsecond=0)
    rng = random.Random(20261122)
    with database.connection_context():
        schema.migrate(db)
        info = seed(count, institutions, now, rng)
        picks = iter([rng.randint(1, count) for _ in range(repeat + 2)])
        base = timed(lambda: InstitutionFile.get_by_id(next(picks)), repeat)
        results = [("主鍵查詢 get_by_id", "—", base)]
        for who, (inst, rows) in info["chosen"].items():
            for filters in (institution_files.DEFAULT_FILTERS, tuple(institution_files.FILTERS)):
                def page(number, inst=inst, filters=filters):
                    return institution_files.shortcut_page(inst, SERVICES, info["person"], filters, number, now, KEEP)
                first = page(1)
                for number in sorted({1, first.pages}):
                    label = f"{who} ({rows:,} 筆) {'+'.join(filters)}"
                    results.append((label, f"p.{number}/{first.pages} ({first.total:,})",
                                    timed(lambda number=number, page=page: page(number), repeat)))
    database.close()
    print(f"\n2. 下載捷徑專區 on {name}: {count:,} file rows over {institutions:,} institutions seeded in "
          f"{info['seconds']:.0f} s; {repeat} runs each; target p95 ratio <= {LIST_TARGET:.0f}")
    print(f"{'query':<48}{'page (matches)':<20}{'p50 ms':>9}{'p95 ms':>9}{'ratio':>8}  target")
    for label, shown, samples in results:
        ratio = p95(samples) / p95(base)
        verdict = "baseline" if samples is base else ("met" if ratio <= LIST_TARGET else "MISSED")
        print(f"{pad(label, 48)}{shown:<20}{statistics.median(samples):>9.2f}{p95(samples):>9.2f}{ratio:>8.1f}  {verdict}")


def peak_rss_kb() -> int:
    """This process's peak resident set in KB: VmHWM of its own memory map.

    ru_maxrss is not usable here: Linux carries a parent's peak into its child
    through fork and exec, so the child would report this benchmark's own peak
    (~116 MB after seeding) instead of its own. ru_maxrss is the fallback off Linux.
    """
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(mode: str, root: str, key: str) -> None:
    """In a fresh interpreter: import (and for 'package' run write_zip), then report the peak RSS as JSON."""
    from portal.logic import packaging
    from portal.storage import LocalStorage

    seconds = 0.0
    if mode == "package":
        storage = LocalStorage(root)
        member = packaging.Member("data.pdf", key, "", storage.path(key).stat().st_size)
        began = time.perf_counter()
        packaging.write_zip(Path(root) / "out.zip", [member], storage, PASSWORD)
        seconds = time.perf_counter() - began
        (Path(root) / "out.zip").unlink()
    print(json.dumps({"maxrss_kb": peak_rss_kb(), "seconds": seconds}))


def run_child(mode: str, root: Path, key: str = "-") -> dict:
    """Run child() in a subprocess of this module (a fork would inherit the parent's memory)."""
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "tests.perf.files_bench", "--child", mode, str(root), key],
                          cwd=repo, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_rss(base: Path, size_mb: int) -> None:
    """Measurement 3: write_zip's peak RSS above an import-only child, for size_mb and a tenth of it."""
    from portal.storage import LocalStorage

    storage = LocalStorage(base / "storage")
    baseline = run_child("baseline", storage.root)["maxrss_kb"] / 1024
    print(f"\n3. Peak RSS of write_zip (AES-256, data.pdf stored) in a child process; import-only child "
          f"{baseline:.1f} MB; target: peak - baseline the same for both sizes (within {FLAT_TARGET_MB} MB)")
    print(f"{'file MB':>8}{'peak MB':>10}{'- baseline':>12}{'seconds':>9}{'MB/s':>7}")
    above = []
    for size in (max(1, size_mb // 10), size_mb):
        member = stored_member(storage, "data.pdf", size * MB, random.Random(size))
        got = run_child("package", storage.root, member.key)
        storage.delete(member.key)
        peak = got["maxrss_kb"] / 1024
        above.append(peak - baseline)
        print(f"{size:>8}{peak:>10.1f}{above[-1]:>12.1f}{got['seconds']:>9.1f}{size / got['seconds']:>7.0f}")
    growth = above[-1] - above[0]
    print(f"growth from {max(1, size_mb // 10)} MB to {size_mb} MB: {growth:+.1f} MB: "
          f"{'flat (met)' if abs(growth) <= FLAT_TARGET_MB else 'MISSED'}")


def main(argv: list[str] | None = None) -> int:
    """Packaging ratio, listing on SQLite (then PostgreSQL when installed), packaging memory."""
    from tests import pgcluster

    parser = argparse.ArgumentParser(prog="python -m tests.perf.files_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke test (5 MB, 20,000 rows, 50 MB)")
    parser.add_argument("--aes-mb", type=int, default=50, help="file packaged with AES (default 50)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="file rows to seed (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=200, help="timed runs per listing query (default 200)")
    parser.add_argument("--rss-mb", type=int, default=1024, help="file packaged for peak RSS (default 1024)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--only", choices=("aes", "listing", "rss"), action="append", help="run only these parts")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    if args.quick:
        args.aes_mb, args.rows, args.repeat, args.rss_mb = 5, 20_000, 50, 50
    parts = args.only or ("aes", "listing", "rss")
    institutions = min(1_000, max(10, args.rows // 100))
    with tempfile.TemporaryDirectory(prefix="portal-files-bench-") as tmp:
        base = Path(tmp)
        if "aes" in parts:
            bench_packaging(base / "aes", args.aes_mb, 3)
        if "listing" in parts and args.backend in ("sqlite", "both"):
            bench_listing("SQLite", f"sqlite:///{base / 'bench.db'}", args.rows, institutions, args.repeat)
        if "listing" in parts and args.backend in ("postgres", "both"):
            if pgcluster.available():
                with pgcluster.cluster("-c shared_buffers=512MB") as server:
                    url = pgcluster.create_database(server, "bench")
                    bench_listing("PostgreSQL", url, args.rows, institutions, args.repeat)
            elif args.backend == "postgres":
                print("files_bench: PostgreSQL is not installed", file=sys.stderr)
                return 1
            else:
                print("\nfiles_bench: PostgreSQL is not installed; its listing is skipped", file=sys.stderr)
        if "rss" in parts:
            bench_rss(base / "rss", args.rss_mb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
