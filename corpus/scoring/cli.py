"""``corpus classifier train RECIPE --out DIR``: train a scoring classifier from a recipe
without a pipeline — the same code as the ``train_classifier`` stage (:func:`train.fit`), rows
read by :mod:`corpus.scoring.recipe` (pyarrow and files, no Spark)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpus.errors import UserError

classifier_app = typer.Typer(add_completion=False, no_args_is_help=True)


@classifier_app.callback()
def classifier_group() -> None:
    """Train scoring classifiers (quality, educational value, math and science)."""


@classifier_app.command("train")
def train_cmd(
    recipe: Annotated[Path, typer.Argument(help="recipe YAML, e.g. classifiers/math_sci/recipe.yaml")],
    out: Annotated[Path, typer.Option(help="folder to write the model and its model card to")],
    threads: Annotated[int, typer.Option(min=1, help="encoder threads (embedding heads)")] = 1,
) -> None:
    """Train the recipe's classifier; writes the model, model_card.json and MODEL_CARD.md."""
    from pydantic import ValidationError

    from corpus.scoring import recipe as rc
    from corpus.scoring import train

    try:
        r = rc.load(str(recipe))
        keys, texts, labels, heldout = rc.read_rows(r, Path.cwd())
        card = train.fit(
            r.classifier, keys, texts, labels, str(out), r.seed, heldout=heldout, threads=threads
        )
    except ValidationError as e:
        first = e.errors()[0]
        raise UserError(f"{recipe}: field {'.'.join(str(x) for x in first['loc'])}: {first['msg']}") from None
    except (FileNotFoundError, ValueError) as e:
        raise UserError(f"{recipe}: {e}") from None
    h = card["metrics"]["heldout"]
    typer.echo(
        f"{card['name']}: {card['rows']['train']} train / {card['rows']['heldout']} held-out rows; "
        f"held-out AUC {h['auc']}, Spearman {h['spearman']}; wrote {out}"
    )
