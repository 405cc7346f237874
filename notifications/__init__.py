"""Notifications: activity → outbox rows (producers, reminders), outbox → Telegram (dispatcher)."""
