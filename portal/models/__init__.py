"""Every model of the portal; ALL_MODELS is what migrations must create."""

from portal.models.announcements import Announcement, AnnouncementAttachment
from portal.models.contacts import Contact, ContactGroup
from portal.models.downloads import DownloadCategory, DownloadDocument, DownloadService, DownloadVariant
from portal.models.faq import Faq, FaqCategory
from portal.models.files import StoredFile
from portal.models.jobs import Job
from portal.models.links import Link, LinkContact, LinkSection
from portal.models.policies import PolicyPage, PolicySection

ALL_MODELS = [
    StoredFile,
    Announcement,
    AnnouncementAttachment,
    DownloadCategory,
    DownloadService,
    DownloadDocument,
    DownloadVariant,
    ContactGroup,
    Contact,
    LinkSection,
    Link,
    LinkContact,
    FaqCategory,
    Faq,
    PolicyPage,
    PolicySection,
    Job,
]

__all__ = [m.__name__ for m in ALL_MODELS] + ["ALL_MODELS"]
