"""Exports that other tools read: JSON Lines with the extracted text, WACZ packages, and the
CDXJ index that pywb replays from.
"""
