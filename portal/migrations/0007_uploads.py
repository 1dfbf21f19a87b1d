"""Uploads checked by background jobs (SPEC U1–U5); jobs may wait in the outbox until a time."""
from peewee import *


def up(migrator, db):
    class Institution(Model):
        class Meta:
            database = db
            table_name = 'institution'

    class Person(Model):
        class Meta:
            database = db
            table_name = 'person'

    class StoredFile(Model):
        class Meta:
            database = db
            table_name = 'stored_file'

    class InstitutionFile(Model):
        class Meta:
            database = db
            table_name = 'institution_file'

    class Job(Model):
        class Meta:
            database = db
            table_name = 'job'

    class Upload(Model):
        institution = ForeignKeyField(Institution, on_delete='CASCADE')
        person = ForeignKeyField(Person, null=True, on_delete='SET NULL')
        kind = CharField(max_length=12)
        channel = CharField(max_length=8, default='web')
        module_no = CharField(max_length=16, default='')
        receipt_no = CharField(max_length=20, unique=True)
        original_name = CharField(default='')
        stored_file = ForeignKeyField(StoredFile, null=True, on_delete='SET NULL')
        size = BigIntegerField(default=0)
        sha256 = CharField(max_length=64, default='')
        form = TextField(default='{}')
        received_at = DateTimeField()
        check_from = DateTimeField()
        state = CharField(max_length=10, default='received')
        result = CharField(max_length=10, default='')
        job = ForeignKeyField(Job, null=True, on_delete='SET NULL')
        records = IntegerField(default=0)
        invalid_records = IntegerField(default=0)
        orders = IntegerField(default=0)
        invalid_orders = IntegerField(default=0)
        declared_records = IntegerField(null=True)
        declared_points = BigIntegerField(null=True)
        errors = IntegerField(default=0)
        warnings = IntegerField(default=0)
        rejected_code = CharField(max_length=8, default='')
        message = TextField(default='')
        summary = TextField(default='{}')
        report = ForeignKeyField(InstitutionFile, null=True, on_delete='SET NULL')
        started_at = DateTimeField(null=True)
        checked_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'upload'
            indexes = ((('institution', 'kind', 'received_at'), False),)

    class IcRecord(Model):
        institution = ForeignKeyField(Institution, on_delete='CASCADE')
        upload = ForeignKeyField(Upload, on_delete='CASCADE')
        pid = CharField(max_length=10)
        visit = CharField(max_length=13)
        category = CharField(max_length=2)
        format = CharField(max_length=1)
        valid = BooleanField()

        class Meta:
            database = db
            table_name = 'ic_record'
            indexes = (
                (('institution', 'pid', 'visit', 'category'), False),
                (('upload', 'pid', 'visit', 'category'), True),
            )

    class ApiNonce(Model):
        nonce = CharField(max_length=64, unique=True)
        seen_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = 'api_nonce'

    db.create_tables([Upload, IcRecord, ApiNonce])
    # A plain ALTER (see 0006): SQLite's migrator would rebuild the table.
    timestamp = 'TIMESTAMP' if isinstance(db, PostgresqlDatabase) else 'DATETIME'
    db.execute_sql(f"ALTER TABLE job ADD COLUMN not_before {timestamp}")


def down(migrator, db):
    for table in ('api_nonce', 'ic_record', 'upload'):
        db.execute_sql(f'DROP TABLE IF EXISTS {table}')
    migrator.migrate(migrator.drop_column('job', 'not_before'))
