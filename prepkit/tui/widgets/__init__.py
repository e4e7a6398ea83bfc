"""Widgets shared by the screens: the review heatmap."""
