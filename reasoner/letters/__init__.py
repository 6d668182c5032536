"""Importing California IMR final determination letters: text in, a case graph out, with
the reviewer's decisions kept apart as labels for evaluation only."""
