"""Who may do what: the roles and the permission matrix, as data (pure; `campaign roles` prints it,
`workflow.services.permissions` applies it with the facts it reads from the database)."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("province_admin", "province_reviewer", "city_coordinator", "city_reviewer", "expert")
ROLE_ZH = {"province_admin": "省级管理员", "province_reviewer": "省级复核人员",
           "city_coordinator": "市级联络员", "city_reviewer": "市级评审人员", "expert": "专家",
           "system": "系统"}
CITY_ROLES = ("city_coordinator", "city_reviewer")
SELF = "self"  # the actor concerned (declare_conflict)
COORD = ("city_coordinator", "province_admin")
EXPERT = ("expert",)
RECHECK = ("province_reviewer",)
ADMIN = ("province_admin",)


@dataclass(frozen=True)
class Permission:
    action: str
    zh: str
    roles: tuple[str, ...]
    note: str = ""


MATRIX: dict[str, Permission] = {p.action: p for p in (
    Permission("enroll", "纳入培育清单", COORD),
    Permission("start_assistance", "开始帮扶", COORD),
    Permission("record_pre_assessment", "记录预评估", EXPERT),
    Permission("submit_plan", "提交一企一策方案", EXPERT),
    Permission("begin_tracking", "开始跟踪评估", COORD),
    Permission("record_evaluation", "记录月度评估", EXPERT),
    Permission("submit_for_acceptance", "申请验收", COORD),
    Permission("pass_acceptance", "验收通过", ("city_reviewer",), "本企业的专家及申请验收者不得评审（职责分离）"),
    Permission("fail_acceptance", "验收未通过", ("city_reviewer",), "本企业的专家及申请验收者不得评审（职责分离）"),
    Permission("pass_recheck", "复核通过", RECHECK, "通过其市级验收者不得复核（职责分离）"),
    Permission("waive_recheck", "免于抽查", RECHECK, "通过其市级验收者不得复核；被抽中者不得免查"),
    Permission("fail_recheck", "复核未通过", RECHECK, "通过其市级验收者不得复核（职责分离）"),
    Permission("publicize", "公示", COORD),
    Permission("object", "公示有异议", COORD),
    Permission("certify", "认定", ADMIN),
    Permission("withdraw", "自愿退出", COORD),
    Permission("disqualify", "取消评级资格", ADMIN, "须写明理由；生成问责记录"),
    Permission("close", "年终关闭", ("system", "province_admin")),
    Permission("override_window", "超出时间窗口操作", ADMIN, "须写明理由"),
    Permission("effective_date", "补录纸面决定的生效日期", ADMIN,
               "advance --effective 或 --file 的 effective 列；须写明理由；不早于上一事件，不晚于今天"),
    Permission("calendar_load", "载入或更改行动日历", ADMIN, "尚无操作人时无需（初始化）"),
    Permission("enterprise_add", "登记企业", COORD),
    Permission("enterprise_update", "修改企业信息", COORD),
    Permission("enterprise_import", "批量导入企业", COORD, "逐行检查城市范围"),
    Permission("ule_publicize", "登记超低排放改造公示", ("city_reviewer", "province_admin"),
               "须有公示文号或网址及公示日期；新登记或导入为已公示的企业同样适用"),
    Permission("grade_correction", "更正绩效等级", ADMIN,
               "须写明理由和评级文件文号；企业在本年行动中培育未结束时不得更正"),
    Permission("assign_expert", "指派专家", COORD),
    Permission("api_token", "创建或吊销 API 令牌", (SELF, "province_admin"),
               "令牌只显示一次，只存其 SHA-256；有有效期，可吊销"),
    Permission("actor_add", "登记操作人", ADMIN, "尚无操作人时无需（初始化）"),
    Permission("actor_deactivate", "停用操作人", ADMIN),
    Permission("declare_conflict", "申报利益冲突", (SELF, "province_admin")),
    Permission("set_password", "设置登录密码", (SELF, "province_admin"), "他人设置的密码须在首次登录时更改"),
    Permission("login_unlock", "解除登录锁定", ADMIN),
    Permission("audit_logins", "查看登录记录", ADMIN),
    Permission("actor_roles", "更改操作人角色与所属城市", ADMIN, "不能去掉最后一名在用省级管理员的该角色"),
    Permission("audit_read", "查阅审计日志、校验审计链、取摘要、问责记录", ("province_admin", "province_reviewer"),
               "工作台"),
    Permission("province_desk", "复核队列、公示与认定名单、清单下载", ("province_reviewer", "province_admin"),
               "工作台"),
    Permission("spot_check", "抽查复核抽样", ("province_reviewer", "province_admin")),
    Permission("submit_deliverable", "报送材料", COORD),
    Permission("open_request", "登记企业需求", COORD),
    Permission("answer_request", "答复企业需求", COORD),
    Permission("record_equipment_update", "记录设备更新", COORD),
    Permission("contact_add", "登记通知联系人", COORD),
    Permission("contact_remove", "停用通知联系人", COORD),
    Permission("db_provision", "数据库角色与行级安全", ADMIN, "仅 PostgreSQL"),
    Permission("db_grant", "数据库登录映射操作人", ADMIN, "仅 PostgreSQL"),
    Permission("audit_baseline", "为存量数据写入基线记录", ADMIN, "须写明理由"),
    Permission("accept_restore", "确认备份恢复", ADMIN, "须写明理由，并以检查点私钥签名"),
)}
DEFAULT = COORD  # an action missing from the matrix: province_admin and the city's coordinator
CITYLESS = frozenset({"enterprise_import"})  # the service checks each row's city itself
# Refusals that say "not you" rather than "not now": the rules of `services.permissions` (and the
# unknown or deactivated actor). The workspace answers them 403 (the API: 城市范围 is 404 there).
PERMISSION_RULES = frozenset({"权限", "城市范围", "专家指派", "利益冲突回避", "职责分离", "数据库登录", "actor"})
READS_AUDIT = frozenset({"pass_acceptance", "fail_acceptance",  # 职责分离 reads the audit log
                         "pass_recheck", "waive_recheck", "fail_recheck"})


@dataclass(frozen=True)
class ActorRecord:
    """Who acts: a registered person (or the system) with their roles and, for city roles, city."""

    name: str
    roles: tuple[str, ...]
    city: str | None
    active: bool = True

    @property
    def role(self) -> str:
        return self.roles[0]


SYSTEM = ActorRecord("system", ("system",), None)


def roles_for(action: str) -> tuple[str, ...]:
    p = MATRIX.get(action)
    return p.roles if p else DEFAULT


def roles_zh(roles: tuple[str, ...]) -> str:
    return "、".join(f"{ROLE_ZH.get(r, '本人')} ({r})" for r in roles)
