"""institution.access_version: a number that changes whenever anyone's access at the institution may have.

Every logged-in request works out what the session may do from appointments,
grants and the institution's services. Web processes keep that result keyed by
this number, which the session lookup reads anyway; triggers (not application
code, so no write path can forget) bump it in the same transaction as any
change to those three tables.
"""
from peewee import *

# (table, how a row names its institution) — "grant" is a reserved word and must be quoted.
SOURCES = [
    ("appointment", "{row}.institution_id"),
    ("institution_service", "{row}.institution_id"),
    ('"grant"', "(SELECT institution_id FROM appointment WHERE id = {row}.appointment_id)"),
]
BUMP = "UPDATE institution SET access_version = access_version + 1 WHERE id = {institution};"


def _trigger_name(table, event):
    return f"access_version_{table.strip(chr(34))}_{event}"


def _sqlite_triggers():
    for table, institution in SOURCES:
        yield (f"CREATE TRIGGER {_trigger_name(table, 'ai')} AFTER INSERT ON {table} BEGIN "
               f"{BUMP.format(institution=institution.format(row='NEW'))} END")
        yield (f"CREATE TRIGGER {_trigger_name(table, 'ad')} AFTER DELETE ON {table} BEGIN "
               f"{BUMP.format(institution=institution.format(row='OLD'))} END")
        yield (f"CREATE TRIGGER {_trigger_name(table, 'au')} AFTER UPDATE ON {table} BEGIN "
               f"{BUMP.format(institution=institution.format(row='OLD'))} "
               f"{BUMP.format(institution=institution.format(row='NEW'))} END")


def _postgres_triggers():
    for table, institution in SOURCES:
        function = f"{_trigger_name(table, 'bump')}"
        yield (f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {BUMP.format(institution=institution.format(row='OLD'))} END IF; "
               f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {BUMP.format(institution=institution.format(row='NEW'))} END IF; "
               "RETURN NULL; END $$")
        yield (f"CREATE TRIGGER {_trigger_name(table, 'aiud')} AFTER INSERT OR UPDATE OR DELETE ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION {function}()")


def up(migrator, db):
    migrator.migrate(migrator.add_column('institution', 'access_version', IntegerField(default=0)))
    triggers = _postgres_triggers() if isinstance(db, PostgresqlDatabase) else _sqlite_triggers()
    for statement in triggers:
        db.execute_sql(statement)


def down(migrator, db):
    for table, _ in SOURCES:
        if isinstance(db, PostgresqlDatabase):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {_trigger_name(table, 'aiud')} ON {table}")
            db.execute_sql(f"DROP FUNCTION IF EXISTS {_trigger_name(table, 'bump')}()")
        else:
            for event in ("ai", "ad", "au"):
                db.execute_sql(f"DROP TRIGGER IF EXISTS {_trigger_name(table, event)}")
    migrator.migrate(migrator.drop_column('institution', 'access_version'))
