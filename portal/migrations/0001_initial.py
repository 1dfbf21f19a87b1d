"""Initial schema: files, announcements, downloads, contacts, links, FAQ, policies, jobs."""
from peewee import *


def up(migrator, db):
    class Announcement(Model):
        kind = CharField()
        department = CharField(default='')
        title = TextField()
        content = TextField(default='')
        keywords = CharField(default='')
        publish_at = DateTimeField()
        expire_at = DateTimeField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'announcement'
            indexes = ((('kind', 'publish_at'), False),)
    db.create_tables([Announcement])

    class StoredFile(Model):
        key = CharField(unique=True)
        name = CharField()
        content_type = CharField()
        size = BigIntegerField()
        sha256 = CharField(index=True, max_length=64)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'stored_file'
    db.create_tables([StoredFile])

    class AnnouncementAttachment(Model):
        announcement = ForeignKeyField(Announcement, on_delete='CASCADE')
        file = ForeignKeyField(StoredFile, on_delete='RESTRICT')
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'announcement_attachment'
    db.create_tables([AnnouncementAttachment])

    class ContactGroup(Model):
        parent = ForeignKeyField('self', null=True, on_delete='CASCADE')
        audience = CharField(default='public')
        name = CharField()
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'contact_group'
            indexes = ((('audience', 'parent', 'name'), True),)
    db.create_tables([ContactGroup])

    class Contact(Model):
        group = ForeignKeyField(ContactGroup, on_delete='CASCADE')
        agency = CharField(default='')
        unit = CharField(default='')
        name = CharField()
        phone = CharField(default='')
        email = CharField(default='')
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'contact'
    db.create_tables([Contact])

    class DownloadCategory(Model):
        name = CharField(unique=True)
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'download_category'
    db.create_tables([DownloadCategory])

    class DownloadService(Model):
        category = ForeignKeyField(DownloadCategory, on_delete='CASCADE')
        name = CharField()
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'download_service'
            indexes = ((('category', 'name'), True),)
    db.create_tables([DownloadService])

    class DownloadDocument(Model):
        service = ForeignKeyField(DownloadService, on_delete='CASCADE')
        description = CharField()
        updated_on = DateField()
        slug = CharField(unique=True, null=True)
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'download_document'
            indexes = ((('service', 'description'), True),)
    db.create_tables([DownloadDocument])

    class DownloadVariant(Model):
        document = ForeignKeyField(DownloadDocument, on_delete='CASCADE')
        format = CharField(max_length=10)
        file = ForeignKeyField(StoredFile, on_delete='RESTRICT')
        class Meta:
            database = db
            table_name = 'download_variant'
            indexes = ((('document', 'format'), True),)
    db.create_tables([DownloadVariant])

    class FaqCategory(Model):
        name = CharField(unique=True)
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'faq_category'
    db.create_tables([FaqCategory])

    class Faq(Model):
        category = ForeignKeyField(FaqCategory, on_delete='CASCADE')
        question = CharField()
        answer = TextField()
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'faq'
            indexes = ((('category', 'question'), True),)
    db.create_tables([Faq])

    class Job(Model):
        kind = CharField()
        func = CharField()
        args = TextField(default='[]')
        state = CharField(index=True, default='outbox')
        owner_id = IntegerField(index=True, null=True)
        institution_id = IntegerField(index=True, null=True)
        attempts = IntegerField(default=0)
        progress = IntegerField(default=0)
        message = TextField(default='')
        error = TextField(default='')
        created_at = DateTimeField()
        updated_at = DateTimeField()
        started_at = DateTimeField(null=True)
        finished_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'job'
    db.create_tables([Job])

    class LinkSection(Model):
        key = CharField(unique=True)
        title = CharField()
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'link_section'
    db.create_tables([LinkSection])

    class Link(Model):
        section = ForeignKeyField(LinkSection, on_delete='CASCADE')
        title = CharField()
        url = CharField()
        note = CharField(default='')
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'link'
    db.create_tables([Link])

    class LinkContact(Model):
        system = CharField()
        name = CharField()
        phone = CharField()
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'link_contact'
    db.create_tables([LinkContact])

    class PolicyPage(Model):
        slug = CharField(unique=True)
        title = CharField()
        updated_on = DateField()
        class Meta:
            database = db
            table_name = 'policy_page'
    db.create_tables([PolicyPage])

    class PolicySection(Model):
        page = ForeignKeyField(PolicyPage, on_delete='CASCADE')
        heading = CharField()
        body = TextField()
        collapsible = BooleanField(default=False)
        position = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'policy_section'
    db.create_tables([PolicySection])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('policy_section'))
    migrator.migrate(migrator.drop_table('policy_page'))
    migrator.migrate(migrator.drop_table('link_contact'))
    migrator.migrate(migrator.drop_table('link'))
    migrator.migrate(migrator.drop_table('link_section'))
    migrator.migrate(migrator.drop_table('job'))
    migrator.migrate(migrator.drop_table('faq'))
    migrator.migrate(migrator.drop_table('faq_category'))
    migrator.migrate(migrator.drop_table('download_variant'))
    migrator.migrate(migrator.drop_table('download_document'))
    migrator.migrate(migrator.drop_table('download_service'))
    migrator.migrate(migrator.drop_table('download_category'))
    migrator.migrate(migrator.drop_table('contact'))
    migrator.migrate(migrator.drop_table('contact_group'))
    migrator.migrate(migrator.drop_table('announcement_attachment'))
    migrator.migrate(migrator.drop_table('stored_file'))
    migrator.migrate(migrator.drop_table('announcement'))
