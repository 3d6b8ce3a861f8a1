"""PAdES sealing of signed documents (pyHanko) and the instance's sealing certificate."""
