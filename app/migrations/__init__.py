"""Alembic migrations, shipped inside the package so an installed copy can migrate."""

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.config import Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", "app:migrations")
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings) -> str:
    """Migrate the database to the latest revision; a sentence saying what was done."""
    config = alembic_config(settings)
    applied: list[str] = []
    config.attributes["applied"] = applied  # env.py appends each revision it applies
    command.upgrade(config, "head")
    if not applied:
        head = ScriptDirectory.from_config(config).get_current_head()
        return f"the database is already at head (revision {head})"
    return f"migrated the database to revision {applied[-1]}: applied {', '.join(applied)}"
