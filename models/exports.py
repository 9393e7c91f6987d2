"""Tables for the plan's attachments: equipment updates (附件3 开展设备更新企业名单)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class EquipmentUpdate(SQLModel, table=True):
    """One equipment-update project of a participation; every row has its audit entry."""

    __tablename__ = "equipment_update"
    id: int | None = Field(default=None, primary_key=True)
    participation_id: int = Field(foreign_key="participation.id", index=True)
    project: str = Field(sa_column=Column(Text, nullable=False))  # 项目名称
    equipment: str = Field(sa_column=Column(Text, nullable=False))  # 更新设备（设施）
    investment: float | None = None  # 投资额（万元）
    completed: date | None = None  # 完成时间
    funding: str = ""  # 资金来源 / 支持渠道
    actor: str
    recorded_at: str  # UTC ISO, the campaign clock
    audit_seq: int
