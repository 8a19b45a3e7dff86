"""notifier: signed webhooks (Standard Webhooks) for every terminal state of a generation."""
