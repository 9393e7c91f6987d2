"""demo: a whole campaign year on a synthetic province."""

from __future__ import annotations

import click

from cli import context


@click.command()
@click.option("--enterprises", "n", type=int, default=6000, show_default=True,
              help="How many synthetic enterprises the province has.")
@click.option("--seed", type=int, default=2024, show_default=True)
def demo(n: int, seed: int) -> None:
    """Build a synthetic province and run the 2024 campaign year day by day."""
    from pathlib import Path

    from commands.lifecycle import status
    from workflow.demo import run_demo

    ctx = context()
    run_demo(ctx, Path.cwd(), n=n, seed=seed, echo=click.echo)
    click.get_current_context().invoke(status, as_json=False)
