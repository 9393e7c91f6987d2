"""What the bureaus read and file: targets and funnel, overdue matrix, the five attachments and the
certification lists, sheets and their writers, the dashboard page.
"""
