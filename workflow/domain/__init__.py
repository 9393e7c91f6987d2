"""Pure rules of the campaign: states and the machine, guards, the plan file, working days, grades and
industries, credit codes, the audit hash form, alerts, the replay of the log. Imports no database,
click, Jinja2, APScheduler or notifications.
"""
