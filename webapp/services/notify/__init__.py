"""Notifications: the outbox delivering SMS, push and wallet updates; web push."""
