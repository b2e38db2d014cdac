"""``--help`` as people read it: plain text that fits 80 columns, with no type names in it.

Typer's own help panels show Python types (``<bool>``, ``<list[str]>``, ``<float range>
[x>=0.1]``), keep a docstring's line breaks (so a sentence breaks where the source did) and
print a wrapped example flush left. Every command and group of the CLI uses these classes
instead, which lay out the help as Click does, with three rules of their own:

- an option shows its metavar (``--limit N``), its choices (``[table|json]``) or nothing (a
  flag); an argument its metavar or its name in capitals (``URL...``);
- prose paragraphs of a docstring are reflowed to the terminal's width;
- a paragraph whose lines are all indented is an example block: each line stays a line,
  indented, and one too long for the terminal continues on the next line, indented further.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

import typer
from typer._click import Context, HelpFormatter  # Typer's vendored Click: the types it passes
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

__all__ = ["HelpCommand", "HelpGroup", "describe_param", "use_help_format", "write_description"]

EXAMPLE_INDENT = 2  # an example block's lines, past the description's indentation
CONTINUATION = 4  # a wrapped example line's continuation, past the example's indentation


def describe_param(param: Any, ctx: Context) -> tuple[str, str] | None:
    """The two columns of a parameter's help line: its names and metavar, its help."""
    if getattr(param, "hidden", False):
        return None
    if isinstance(param, TyperArgument):
        names = _argument_name(param)
        if param.nargs != 1:
            names += "..."
    else:
        names = ", ".join(sorted(param.opts, key=lambda o: (o.startswith("--"), o)))
        metavar = _option_metavar(param, ctx)
        if metavar:
            names += f" {metavar}"
    extra = []
    envvar = getattr(param, "envvar", None)
    if envvar and getattr(param, "show_envvar", False):
        extra.append(f"env: {envvar if isinstance(envvar, str) else ', '.join(envvar)}")
    default = _default(param, ctx)
    if default:
        extra.append(f"default: {default}")
    text = " ".join((param.help or "").split())
    if extra:
        text = f"{text} [{'; '.join(extra)}]".strip()
    return names, text


def _option_metavar(param: Any, ctx: Context) -> str:
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    if param.metavar:
        return str(param.metavar)
    if param.type_descriptor.is_choice:
        return "[" + str(param.display_type(ctx)).strip("<>") + "]"
    return (param.name or "value").upper()


def _default(param: Any, ctx: Context) -> str:
    if not isinstance(param, TyperOption | TyperArgument) or not param.show_default:
        return ""
    if getattr(param, "is_flag", False):
        return ""
    if isinstance(param.show_default, str):
        return str(param.show_default)
    value = param._extract_default_help_str(ctx=ctx)
    if value is None or value == [] or value == ():
        return ""
    return str(param._get_default_string(ctx=ctx, show_default_is_str=False, default_value=value))


def write_description(text: str, formatter: HelpFormatter) -> None:
    """A docstring: prose reflowed, example blocks kept line by line (see the module docs)."""
    text = inspect.cleandoc(text).partition("\f")[0]
    for paragraph in text.split("\n\n"):
        lines = [line for line in paragraph.splitlines() if line.strip()]
        if not lines:
            continue
        formatter.write_paragraph()
        with formatter.indentation():
            if all(line[:1].isspace() for line in lines):
                _write_example(lines, formatter)
            else:
                formatter.write_text(" ".join(line.strip() for line in lines))


def _write_example(lines: list[str], formatter: HelpFormatter) -> None:
    base = min(len(line) - len(line.lstrip()) for line in lines)
    for line in lines:
        own = len(line) - len(line.lstrip()) - base  # indentation within the block
        indent = " " * (formatter.current_indent + EXAMPLE_INDENT + own)
        wrapped = textwrap.wrap(
            line.strip(),
            width=max(formatter.width, len(indent) + 20),
            initial_indent=indent,
            subsequent_indent=indent + " " * CONTINUATION,
            break_long_words=False,
            break_on_hyphens=False,
        )
        formatter.write("\n".join(wrapped) + "\n")


def _format_options(command: Any, ctx: Context, formatter: HelpFormatter) -> None:
    arguments: list[tuple[str, str]] = []
    options: list[tuple[str, str]] = []
    for param in command.get_params(ctx):
        record = describe_param(param, ctx)
        if record is not None:
            (arguments if isinstance(param, TyperArgument) else options).append(record)
    for title, records in (("Arguments", arguments), ("Options", options)):
        if records:
            with formatter.section(title):
                formatter.write_dl(records, col_max=28)


def _format_help(command: Any, ctx: Context, formatter: HelpFormatter) -> None:
    command.format_usage(ctx, formatter)
    if command.help:
        write_description(command.help, formatter)
    _format_options(command, ctx, formatter)
    if isinstance(command, TyperGroup):
        command.format_commands(ctx, formatter)
    if command.epilog:
        write_description(command.epilog, formatter)


def _argument_name(param: Any) -> str:
    return str(param.metavar or (param.name or "value").upper())


def _usage_pieces(command: Any, ctx: Context) -> list[str]:
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if isinstance(param, TyperArgument):
            name = _argument_name(param)
            if not param.required and not name.startswith("["):
                name = f"[{name}]"
            pieces.append(name + ("..." if param.nargs != 1 else ""))
    return pieces


class HelpCommand(TyperCommand):
    """A Typer command whose ``--help`` follows this module's rules."""

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        _format_help(self, ctx, formatter)

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        return _usage_pieces(self, ctx)


class HelpGroup(TyperGroup):
    """A Typer group whose ``--help`` follows this module's rules, commands listed in full."""

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        _format_help(self, ctx, formatter)

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        return [*_usage_pieces(self, ctx), self.subcommand_metavar]

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            first = inspect.cleandoc(command.help or "").split("\n\n", 1)[0]
            rows.append((name, " ".join(first.split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def use_help_format(app: typer.Typer) -> None:
    """Give every command and group of ``app`` (sub-apps included) this module's help."""
    app.info.cls = HelpGroup
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = HelpCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            use_help_format(group.typer_instance)
