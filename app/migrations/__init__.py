"""Alembic migrations, shipped inside the package so an installed copy can migrate."""

from alembic.config import Config

from app.config import Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", "app:migrations")
    config.attributes["settings"] = settings
    return config
