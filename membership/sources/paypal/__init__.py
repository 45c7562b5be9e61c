"""PayPal: subscriptions and one-off payments by webhook, verified, translated, reconciled."""
