"""Every model of the portal; ALL_MODELS is what migrations must create."""

from portal.models.announcements import Announcement, AnnouncementAttachment, ReadMark
from portal.models.audit import AuditEvent, AuditHead
from portal.models.authority import (
    Appointment,
    Grant,
    HisVendor,
    Institution,
    InstitutionService,
    PasswordCredential,
    Person,
)
from portal.models.contacts import Contact, ContactGroup
from portal.models.downloads import DownloadCategory, DownloadDocument, DownloadService, DownloadVariant
from portal.models.faq import Faq, FaqCategory
from portal.models.files import StoredFile
from portal.models.institution_files import FileDownload, FileRequest, InstitutionFile, Package
from portal.models.jobs import Job
from portal.models.links import Link, LinkContact, LinkSection
from portal.models.modules import SecurityModule
from portal.models.pki import CrlCache
from portal.models.policies import PolicyPage, PolicySection
from portal.models.sessions import LoginThrottle, LoginTransaction, UserSession
from portal.models.uploads import ApiNonce, ClaimCase, IcRecord, Upload

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
    Institution,
    Person,
    Appointment,
    InstitutionService,
    Grant,
    HisVendor,
    PasswordCredential,
    SecurityModule,
    LoginTransaction,
    UserSession,
    LoginThrottle,
    AuditEvent,
    AuditHead,
    CrlCache,
    ReadMark,
    InstitutionFile,
    FileRequest,
    FileDownload,
    Package,
    Upload,
    IcRecord,
    ClaimCase,
    ApiNonce,
]

__all__ = [m.__name__ for m in ALL_MODELS] + ["ALL_MODELS"]
