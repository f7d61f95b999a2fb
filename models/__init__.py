"""Peerline's SQLAlchemy 2 models, one module per aggregate."""

from models.audit import AuditEntry
from models.base import Base, utcnow
from models.campaign import DELIVERY, Campaign, CampaignStatus, campaign_of, delivery_bucket
from models.flow_state import FlowState
from models.inbound import INBOUND_LANES, Lease, ProcessedInbound
from models.invite import Invite
from models.moderation import ParticipantBlock, Report
from models.outbox import OutboxMessage, OutboxStatus
from models.participant import Participant, ParticipantStatus, Role, SupporterProfile
from models.relay import Feedback
from models.request import HelpRequest, Match, MatchStatus, Offer, OfferStatus, RequestStatus
from models.safety import GuardMark
from models.schedule import ScheduledJob
from models.stats import DailyCount
from models.talk import CoordinatorTalk, TalkStatus

__all__ = [
    "AuditEntry",
    "Base",
    "DELIVERY",
    "Campaign",
    "CoordinatorTalk",
    "CampaignStatus",
    "campaign_of",
    "delivery_bucket",
    "DailyCount",
    "Feedback",
    "FlowState",
    "GuardMark",
    "HelpRequest",
    "INBOUND_LANES",
    "Invite",
    "Lease",
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
    "TalkStatus",
    "utcnow",
]
