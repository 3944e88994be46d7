"""The business itself: setting it up, its counter settings and its logo."""
