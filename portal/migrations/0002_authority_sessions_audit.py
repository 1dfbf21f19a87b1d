"""Authority model, login transactions and sessions, 雲端安全模組, audit log, CRL cache (issue 3)."""
from peewee import *


def up(migrator, db):
    class StoredFile(Model):
        class Meta:
            database = db
            table_name = 'stored_file'

    class Institution(Model):
        code = CharField(unique=True, max_length=10)
        name = CharField()
        region = CharField(max_length=16)
        kind = CharField(default='')
        contracted_on = DateField(null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'institution'
    db.create_tables([Institution])

    class Person(Model):
        national_id = CharField(unique=True, max_length=10)
        name = CharField()
        birth_date = DateField()
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'person'
    db.create_tables([Person])

    class Appointment(Model):
        institution = ForeignKeyField(Institution, on_delete='CASCADE')
        person = ForeignKeyField(Person, on_delete='CASCADE')
        role = CharField(max_length=16)
        valid_from = DateField()
        valid_to = DateField(null=True)
        created_at = DateTimeField()
        created_by = CharField(default='')
        updated_at = DateTimeField()
        removed_at = DateTimeField(null=True)
        reminded_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'appointment'
            indexes = ((('institution', 'role'), False), (('person', 'role'), False))
    db.create_tables([Appointment])

    class AuditEvent(Model):
        at = DateTimeField(index=True)
        actor = CharField(default='')
        actor_person_id = IntegerField(index=True, null=True)
        institution_id = IntegerField(index=True, null=True)
        ip = CharField(default='')
        user_agent = CharField(default='')
        action = CharField(index=True)
        result = CharField(default='ok')
        detail = TextField(default='{}')
        prev_hash = CharField(max_length=64)
        hash = CharField(max_length=64)
        class Meta:
            database = db
            table_name = 'audit_event'
    db.create_tables([AuditEvent])

    class AuditHead(Model):
        last_id = IntegerField(default=0)
        last_hash = CharField(max_length=64)
        class Meta:
            database = db
            table_name = 'audit_head'
    db.create_tables([AuditHead])
    # The chain starts from a fixed genesis hash; writers lock this row to append in order.
    AuditHead.insert(id=1, last_id=0, last_hash="0" * 64).execute()

    class CrlCache(Model):
        issuer = CharField(unique=True)
        source = CharField(default='')
        der = BlobField()
        this_update = DateTimeField()
        next_update = DateTimeField(null=True)
        fetched_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'crl_cache'
    db.create_tables([CrlCache])

    class Grant(Model):
        appointment = ForeignKeyField(Appointment, on_delete='CASCADE')
        service_code = CharField(max_length=8)
        granted_at = DateTimeField()
        granted_by = CharField(default='')
        class Meta:
            database = db
            table_name = 'grant'
            indexes = ((('appointment', 'service_code'), True),)
    db.create_tables([Grant])

    class HisVendor(Model):
        institution = ForeignKeyField(Institution, on_delete='CASCADE')
        vendor_name = CharField()
        vendor_tax_id = CharField(max_length=8)
        note = CharField(default='')
        allowed_at = DateTimeField()
        allowed_by = CharField(default='')
        revoked_at = DateTimeField(null=True)
        revoked_by = CharField(default='')
        class Meta:
            database = db
            table_name = 'his_vendor'
    db.create_tables([HisVendor])

    class InstitutionService(Model):
        institution = ForeignKeyField(Institution, on_delete='CASCADE')
        service_code = CharField(max_length=8)
        applied_at = DateTimeField()
        applied_by = CharField(default='')
        withdrawn_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'institution_service'
            indexes = ((('institution', 'service_code'), True),)
    db.create_tables([InstitutionService])

    class LoginThrottle(Model):
        key = CharField(unique=True)
        failures = IntegerField(default=0)
        window_start = DateTimeField()
        locked_until = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'login_throttle'
    db.create_tables([LoginThrottle])

    class LoginTransaction(Model):
        nonce = CharField(unique=True, max_length=64)
        cookie_hash = CharField(max_length=64)
        card_type = CharField(max_length=16)
        reader_type = CharField(max_length=16)
        state = CharField(default='started')
        person = ForeignKeyField(Person, null=True, on_delete='CASCADE')
        institution = ForeignKeyField(Institution, null=True, on_delete='CASCADE')
        detail = TextField(default='{}')
        ip = CharField(default='')
        created_at = DateTimeField()
        expires_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'login_transaction'
    db.create_tables([LoginTransaction])

    class PasswordCredential(Model):
        person = ForeignKeyField(Person, unique=True, on_delete='CASCADE')
        password_hash = CharField()
        must_change = BooleanField(default=True)
        changed_at = DateTimeField(null=True)
        failed_count = IntegerField(default=0)
        locked_until = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'password_credential'
    db.create_tables([PasswordCredential])

    class SecurityModule(Model):
        institution = ForeignKeyField(Institution, on_delete='CASCADE')
        application_no = CharField(unique=True, max_length=16)
        applied_at = DateTimeField()
        applied_by = CharField(default='')
        routine = BooleanField(default=False)
        contact_name = CharField(default='')
        contact_phone = CharField(default='')
        mobile = CharField(default='')
        email = CharField(default='')
        status = CharField(index=True, default='applied')
        reviewed_at = DateTimeField(null=True)
        module_no = CharField(unique=True, null=True, max_length=12)
        certificate_pem = TextField(null=True)
        package = ForeignKeyField(StoredFile, null=True, on_delete='SET NULL')
        revoked_at = DateTimeField(null=True)
        revoked_by = CharField(default='')
        class Meta:
            database = db
            table_name = 'security_module'
    db.create_tables([SecurityModule])

    class UserSession(Model):
        token_hash = CharField(unique=True, max_length=64)
        institution = ForeignKeyField(Institution, on_delete='CASCADE')
        person = ForeignKeyField(Person, null=True, on_delete='CASCADE')
        representative = BooleanField(default=False)
        card_type = CharField(max_length=16)
        login_method = CharField(max_length=16, default='card')
        certificate_serial = CharField(default='')
        module_no = CharField(index=True, default='')
        ip = CharField(default='')
        user_agent = CharField(default='')
        created_at = DateTimeField()
        last_seen_at = DateTimeField()
        expires_at = DateTimeField()
        ended_at = DateTimeField(index=True, null=True)
        end_reason = CharField(default='')
        class Meta:
            database = db
            table_name = 'user_session'
    db.create_tables([UserSession])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('user_session'))
    migrator.migrate(migrator.drop_table('security_module'))
    migrator.migrate(migrator.drop_table('password_credential'))
    migrator.migrate(migrator.drop_table('login_transaction'))
    migrator.migrate(migrator.drop_table('login_throttle'))
    migrator.migrate(migrator.drop_table('institution_service'))
    migrator.migrate(migrator.drop_table('his_vendor'))
    migrator.migrate(migrator.drop_table('grant'))
    migrator.migrate(migrator.drop_table('crl_cache'))
    migrator.migrate(migrator.drop_table('audit_head'))
    migrator.migrate(migrator.drop_table('audit_event'))
    migrator.migrate(migrator.drop_table('appointment'))
    migrator.migrate(migrator.drop_table('person'))
    migrator.migrate(migrator.drop_table('institution'))
