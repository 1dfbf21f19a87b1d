"""Files for the institution (SPEC D1–D5): files, requests, downloads, cached packages; e-delivery opt-in."""
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
        institution = ForeignKeyField(Institution, on_delete='CASCADE')
        service_code = CharField(max_length=8)
        category = CharField(max_length=16, default='')
        name = CharField()
        description = CharField(default='')
        stored_file = ForeignKeyField(StoredFile)
        description_file = ForeignKeyField(StoredFile, null=True)
        fee_month = IntegerField(null=True)
        medical_category = CharField(max_length=2, default='')
        parts = TextField(default='[]')
        provided_at = DateTimeField()
        available_from = DateTimeField()
        listed_at = DateTimeField()
        request_state = CharField(max_length=8, default='')
        notice = CharField(max_length=8, default='')
        notified_at = DateTimeField(null=True)
        reminders_sent = IntegerField(default=0)
        first_viewed_at = DateTimeField(null=True)
        first_viewed_by = CharField(default='')

        class Meta:
            database = db
            table_name = 'institution_file'
            indexes = (
                (('institution', 'available_from', 'request_state', 'service_code', 'listed_at'), False),
                (('institution', 'request_state', 'service_code', 'available_from', 'listed_at'), False),
                (('institution', 'category', 'provided_at'), False),
            )

    class FileRequest(Model):
        file = ForeignKeyField(InstitutionFile, on_delete='CASCADE')
        person = ForeignKeyField(Person, null=True, on_delete='SET NULL')
        requested_by = CharField(default='')
        requested_at = DateTimeField()
        state = CharField(max_length=8, default='pending', index=True)
        served_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'file_request'

    class FileDownload(Model):
        file = ForeignKeyField(InstitutionFile, on_delete='CASCADE')
        person = ForeignKeyField(Person, on_delete='CASCADE')
        mode = CharField(max_length=8)
        bulk = BooleanField(default=False)
        at = DateTimeField()

        class Meta:
            database = db
            table_name = 'file_download'
            indexes = ((('person', 'file'), False),)

    class Package(Model):
        key = CharField(max_length=64, unique=True)
        mode = CharField(max_length=8)
        institution = ForeignKeyField(Institution, on_delete='CASCADE')
        person = ForeignKeyField(Person, null=True, on_delete='CASCADE')
        file_ids = TextField(default='[]')
        bulk = BooleanField(default=False)
        name = CharField()
        state = CharField(max_length=8, default='building')
        job_id = IntegerField(null=True)
        storage_key = CharField(null=True)
        size = BigIntegerField(default=0)
        sha256 = CharField(max_length=64, default='')
        message = CharField(default='')
        created_at = DateTimeField()
        built_at = DateTimeField(null=True)
        used_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = 'package'

    db.create_tables([InstitutionFile, FileRequest, FileDownload, Package])
    # Plain ALTERs: SQLite's migrator would rebuild the table for a NOT NULL column, which
    # the access_version triggers on other tables (0004) do not survive.
    timestamp = 'TIMESTAMP' if isinstance(db, PostgresqlDatabase) else 'DATETIME'
    db.execute_sql("ALTER TABLE institution ADD COLUMN notice_emails VARCHAR(255) NOT NULL DEFAULT ''")
    db.execute_sql(f"ALTER TABLE institution ADD COLUMN e_delivery_since {timestamp}")


def down(migrator, db):
    for table in ('package', 'file_download', 'file_request', 'institution_file'):
        db.execute_sql(f'DROP TABLE IF EXISTS {table}')
    migrator.migrate(migrator.drop_column('institution', 'notice_emails'))
    migrator.migrate(migrator.drop_column('institution', 'e_delivery_since'))
