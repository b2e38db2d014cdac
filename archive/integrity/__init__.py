"""Keeping the WARC files and the database in agreement: finishing what a killed process left
(resume), indexing records written but never stored, and ``morgue verify [--repair]``.
"""
