"""Small pieces every layer may use: time helpers, scoring metrics, atomic file writes."""
