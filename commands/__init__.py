"""One module per command area: parse, call one service, render. `COMMANDS` names them for the
click root, which imports each module only when its command runs (`campaign --help` stays fast)."""

# name → "module:attribute"; each module imports only click at the top.
COMMANDS = {
    "init": "commands.setup:init",
    "calendar": "commands.setup:calendar",
    "workdays": "commands.setup:workdays",
    "actor": "commands.actors:actor",
    "enterprise": "commands.enterprises:enterprise",
    "advance": "commands.lifecycle:advance",
    "history": "commands.lifecycle:history",
    "status": "commands.lifecycle:status",
    "graph": "commands.lifecycle:graph",
    "audit": "commands.audit:audit",
    # deadlines and scheduler
    "deliverable": "commands.deadlines:deliverable",
    "deadlines": "commands.deadlines:deadlines",
    "request": "commands.needs:request",
    "scheduler": "commands.scheduler:scheduler",
    # notices, exports, delivery
    "notices": "commands.notices:notices",
    "export": "commands.exports:export",
    "equipment": "commands.exports:equipment",
    "contact": "commands.notices:contact",
    # integrity and access control
    "roles": "commands.access:roles",
    "assign": "commands.access:assign",
    "recheck": "commands.access:recheck",
    "db": "commands.database:db",
    # reports
    "report": "commands.reports:report",
    "demo": "commands.demo:demo",
    "serve": "commands.serve:serve",
}
