"""Use cases: load, authorise, decide (through domain), write inside one audited unit of work. Plain
values in, plain records out.
"""
