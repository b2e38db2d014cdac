"""``morgue serve``: the web UI over the archive, with archived pages replayed from another port."""

from __future__ import annotations

from typing import Annotated

import typer

from archive.exceptions import InvalidInput

from .options import DataDirOption, DbOption, resolve_paths

__all__ = ["register"]


def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="The UI's port.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            metavar="TOKEN",
            envvar="MORGUE_SERVE_TOKEN",
            help="Turns on the archive and recheck forms; each write must give it. "
            "[default: no writes]",
            show_default=False,
        ),
    ] = None,
    replay_port: Annotated[
        int | None,
        typer.Option(
            "--replay-port",
            metavar="PORT",
            help="Port of the replay origin, where archived pages are served. [default: PORT+1]",
            show_default=False,
        ),
    ] = None,
    replay_url: Annotated[
        str | None,
        typer.Option(
            "--replay-url",
            metavar="URL",
            help="The replay origin's public URL, behind a reverse proxy. "
            "[default: http://HOST:REPLAY_PORT]",
            show_default=False,
        ),
    ] = None,
    replay: Annotated[
        str,
        typer.Option(
            "--replay",
            metavar="auto|pywb|builtin",
            help="What replays archived pages: pywb (with their images and stylesheets, "
            "from .venv-pywb or MORGUE_WAYBACK), morgue's own app (the HTML as archived), or "
            "pywb when one is found.",
        ),
    ] = "auto",
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Serve the web UI: search, captures, page timelines, dead links, runs, a JSON API.

    Archived pages are replayed from a second port (another origin), so that no archived
    script ever runs on the UI's origin. Without a token the UI only reads; with one, its
    "archive this URL" and "recheck" forms ask for it. See docs/serve.md for running it
    behind a reverse proxy.

    Examples:

      morgue serve          # http://127.0.0.1:8000, replays on port 8001

      MORGUE_SERVE_TOKEN=s3cret morgue serve --port 9000

      morgue serve --db postgresql+psycopg://morgue@db/morgue --host 0.0.0.0
    """
    from archive.web.serving import serve  # FastAPI and uvicorn: only this command needs them

    if replay not in ("auto", "pywb", "builtin"):
        raise InvalidInput(f"--replay is auto, pywb or builtin, not {replay!r}")
    paths = resolve_paths(ctx, data_dir, db)
    typer.echo(f"morgue serve: http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    serve(
        paths,
        host=host,
        port=port,
        token=token or None,
        replay_port=replay_port,
        replay_url=replay_url,
        replay=replay,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
