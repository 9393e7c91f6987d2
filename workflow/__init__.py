"""The campaign workflow: pure rules, the state machine and the service layer."""
