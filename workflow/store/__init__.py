"""The database side of the audit log and the campaign: ledger append and verification, the projection
check, campaign loading, simulation flag, PostgreSQL security DDL, the checkpoint witness.
"""
