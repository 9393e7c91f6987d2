"""Deadlines over time: alert sources, the daily tick, the APScheduler daemon and its lock."""
