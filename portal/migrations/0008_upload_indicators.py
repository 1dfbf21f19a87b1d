"""Upload indicators (SPEC U5): what IC-card RECs and 門診 claim cases carry for the comparison."""
from peewee import *


def up(migrator, db):
    class Institution(Model):
        class Meta:
            database = db
            table_name = 'institution'

    class Upload(Model):
        class Meta:
            database = db
            table_name = 'upload'

    class ClaimCase(Model):
        institution = ForeignKeyField(Institution, on_delete='CASCADE')
        upload = ForeignKeyField(Upload, on_delete='CASCADE')
        fee_month = CharField(max_length=5)
        pid = CharField(max_length=10)
        visit = CharField(max_length=7)
        case_type = CharField(max_length=2)
        doctor = CharField(max_length=10, default='')
        diagnosis = CharField(max_length=9, default='')
        fee = IntegerField(default=0)
        copay = IntegerField(default=0)
        order_codes = TextField(default='')
        serial = CharField(max_length=4, default='')

        class Meta:
            database = db
            table_name = 'claim_case'
            indexes = ((('institution', 'fee_month'), False),)

    db.create_tables([ClaimCase])
    # Plain ALTERs (see 0006): SQLite's migrator would rebuild the table.
    db.execute_sql("ALTER TABLE ic_record ADD COLUMN on_time BOOLEAN")
    db.execute_sql("ALTER TABLE ic_record ADD COLUMN doctor VARCHAR(10) NOT NULL DEFAULT ''")
    db.execute_sql("ALTER TABLE ic_record ADD COLUMN diagnosis VARCHAR(9) NOT NULL DEFAULT ''")
    db.execute_sql("ALTER TABLE ic_record ADD COLUMN fee INTEGER")
    db.execute_sql("ALTER TABLE ic_record ADD COLUMN copay INTEGER")
    db.execute_sql("ALTER TABLE ic_record ADD COLUMN order_codes TEXT NOT NULL DEFAULT ''")
    db.execute_sql("CREATE INDEX ic_record_institution_id_visit ON ic_record (institution_id, visit)")


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS claim_case')
    db.execute_sql('DROP INDEX IF EXISTS ic_record_institution_id_visit')
    for column in ('on_time', 'doctor', 'diagnosis', 'fee', 'copay', 'order_codes'):
        migrator.migrate(migrator.drop_column('ic_record', column))
