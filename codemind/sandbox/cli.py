"""`codemind sandbox ...`: build the image, check readiness, run one program.

Mounted by the main CLI with `app.add_typer(sandbox_app, name="sandbox")`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from codemind.errors import UserError

sandbox_app = typer.Typer(help="The code sandbox: build its image, check it, run a program in it.",
                          no_args_is_help=True)


def _fail(e: UserError) -> None:
    print(f"error: {e}", file=sys.stderr)
    raise typer.Exit(2)


@sandbox_app.command()
def build(
    mirror: Optional[str] = typer.Option(None, help="Debian mirror URL (default: from /etc/apt sources)"),
    force: bool = typer.Option(False, help="Rebuild even if the image exists"),
) -> None:
    """Build the sandbox image offline (debootstrap + docker import); a no-op if it exists."""
    from codemind.sandbox import image

    try:
        info = image.build(mirror=mirror, force=force, log=lambda m: print(m, file=sys.stderr))
    except UserError as e:
        _fail(e)
    print(f"{info.tag} {info.id} {info.size_mb:.0f} MB ({info.seconds:.1f} s)")


@sandbox_app.command()
def doctor() -> None:
    """Say whether the engine and the image are ready (exit 0) or what to do (exit 2)."""
    from codemind.sandbox import image

    checks = image.doctor()
    for c in checks:
        print(("ok   " if c.ok else "FAIL ") + c.line)
    raise typer.Exit(0 if all(c.ok for c in checks) else 2)


@sandbox_app.command("exec")
def exec_(
    file: Path = typer.Argument(..., help="Program source file"),
    language: Optional[str] = typer.Option(None, help="python or java (default: from the file suffix)"),
    stdin: Optional[Path] = typer.Option(None, "--stdin", help="File fed to the program's stdin"),
    call: Optional[str] = typer.Option(None, help="Expression to evaluate after the program, e.g. 'f(3)'"),
    as_json: bool = typer.Option(False, "--json", help="Print the Execution as JSON"),
    sandbox: Optional[str] = typer.Option(None, help="docker or process (default: docker when ready)"),
    timeout: Optional[float] = typer.Option(None, help="Wall-clock limit in seconds"),
) -> None:
    """Run one program in the sandbox and print its Execution."""
    from codemind.sandbox import open_sandbox
    from codemind.schema import ExecJob, Limits

    try:
        if not file.is_file():
            raise UserError(f"no such file: {file}")
        if stdin is not None and not stdin.is_file():
            raise UserError(f"no such file: {stdin}")
        lang = language or ("java" if file.suffix == ".java" else "python")
        if lang not in ("python", "java"):
            raise UserError(f"unknown language '{lang}' (python or java)")
        limits = Limits() if timeout is None else Limits(wall_seconds=timeout, cpu_seconds=timeout)
        job = ExecJob(language=lang, source=file.read_text(encoding="utf-8", errors="surrogateescape"),
                      call=call, stdin=stdin.read_text(encoding="utf-8", errors="surrogateescape") if stdin else "",
                      limits=limits)
        with open_sandbox(sandbox, workers=1) as sb:
            ex = sb.run([job])[0]
    except UserError as e:
        _fail(e)
    if as_json:
        print(json.dumps(ex.model_dump(mode="json"), ensure_ascii=False))
        return
    head = f"status: {ex.status}"
    if ex.exc_type or ex.exc_message:
        head += f" ({ex.exc_type or ''}{': ' if ex.exc_type and ex.exc_message else ''}{ex.exc_message or ''})"
    print(head)
    if ex.return_repr is not None:
        print(f"return: {ex.return_repr}")
    print(f"exit code: {ex.exit_code}  wall: {ex.wall_time:.3f} s  peak memory: {ex.peak_memory_kb} KB")
    if ex.stdout:
        print("--- stdout")
        print(ex.stdout, end="" if ex.stdout.endswith("\n") else "\n")
    if ex.stderr:
        print("--- stderr")
        print(ex.stderr, end="" if ex.stderr.endswith("\n") else "\n")


if __name__ == "__main__":  # `python -m codemind.sandbox.cli ...` (used by .ci/setup-docker.sh)
    sandbox_app()
