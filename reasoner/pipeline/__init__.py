"""The decision pipeline, once: reading and checking a case (`case_input`), the stage list
and its follow-ups (`run`), and the stores it runs in (`stores`). See README.md here."""
