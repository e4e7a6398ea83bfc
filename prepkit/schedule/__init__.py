"""Scheduling core: pure functions over card states; time always comes in as a parameter."""
