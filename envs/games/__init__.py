"""Game cores (pure rules) and their text faces, one module pair per game."""
