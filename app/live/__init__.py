"""Live updates: session change events, their fan-out, and subscriptions."""
