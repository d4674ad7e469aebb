"""All models, imported so that Alembic and the app see every table."""

from app.models.appointments import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    PaymentMethod,
    VisitNote,
    WaitlistEntry,
    occupies_slot,
)
from app.models.audit import AuditLog
from app.models.auth import (
    CodeChannel,
    CodePurpose,
    OneTimeCode,
    RecoveryCode,
    RefreshToken,
    SignInThrottle,
    UserSession,
)
from app.models.chat import Conversation, Message
from app.models.clinics import Clinic, Doctor, DoctorLanguage, Specialty, doctor_specialties
from app.models.consults import Consult, ConsultStatus
from app.models.content import ApplicationStatus, ContentPage, DoctorApplication, PageKind
from app.models.notifications import (
    Notification,
    NotificationChannel,
    NotificationPreference,
    NotificationStatus,
)
from app.models.payments import Payment, PaymentProvider, PaymentStatus, Refund, StripeEvent
from app.models.reports import (
    ReportDay,
    ReportDirty,
    ReportDoctorDay,
    ReportDoctorWeek,
    ReportLeadDay,
    ReportLeadWeek,
    ReportMoneyDay,
    ReportRollupClinic,
)
from app.models.reviews import Review
from app.models.scheduling import DoctorFreeDay, Slot, SlotMode, SlotStatus
from app.models.users import PatientProfile, Role, User, UserPermission
from app.models.visits import VisitEvent, VisitEventKind
from app.models.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookSubscription,
)

__all__ = [
    "ReportDay",
    "ReportDirty",
    "ReportDoctorDay",
    "ReportDoctorWeek",
    "ReportLeadDay",
    "ReportLeadWeek",
    "ReportMoneyDay",
    "ReportRollupClinic",
    "ACTIVE_STATUSES",
    "ApplicationStatus",
    "ContentPage",
    "DoctorApplication",
    "PageKind",
    "Appointment",
    "AppointmentStatus",
    "AuditLog",
    "Clinic",
    "Conversation",
    "CodeChannel",
    "CodePurpose",
    "Consult",
    "ConsultStatus",
    "Doctor",
    "DoctorFreeDay",
    "DoctorLanguage",
    "Message",
    "Notification",
    "NotificationChannel",
    "NotificationPreference",
    "NotificationStatus",
    "OneTimeCode",
    "PatientProfile",
    "Payment",
    "PaymentMethod",
    "PaymentProvider",
    "PaymentStatus",
    "RecoveryCode",
    "RefreshToken",
    "Refund",
    "Review",
    "Role",
    "Slot",
    "SlotMode",
    "SlotStatus",
    "Specialty",
    "StripeEvent",
    "User",
    "UserPermission",
    "SignInThrottle",
    "UserSession",
    "VisitEvent",
    "VisitEventKind",
    "VisitNote",
    "WaitlistEntry",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "WebhookSubscription",
    "doctor_specialties",
    "occupies_slot",
]
