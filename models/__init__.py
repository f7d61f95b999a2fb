"""Peerline's SQLAlchemy 2 models, one module per aggregate."""

from models.audit import AuditEntry
from models.base import Base, utcnow
from models.flow_state import FlowState
from models.inbound import ProcessedInbound
from models.moderation import ParticipantBlock, Report
from models.outbox import OutboxMessage, OutboxStatus
from models.participant import Participant, ParticipantStatus, Role, SupporterProfile
from models.request import HelpRequest, Match, MatchStatus, Offer, OfferStatus, RequestStatus
from models.schedule import ScheduledJob

__all__ = [
    "AuditEntry",
    "Base",
    "FlowState",
    "HelpRequest",
    "Match",
    "MatchStatus",
    "Offer",
    "OfferStatus",
    "OutboxMessage",
    "OutboxStatus",
    "Participant",
    "ParticipantBlock",
    "ParticipantStatus",
    "ProcessedInbound",
    "Report",
    "RequestStatus",
    "Role",
    "ScheduledJob",
    "SupporterProfile",
    "utcnow",
]
