"""Figures in news text: extracted, indexed, followed over time and answered."""
