"""``python -m archive`` runs the morgue CLI."""

from archive.cli import main

main()
