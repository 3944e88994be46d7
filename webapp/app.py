"""The application factory: everything (engine, session, blueprints) is made here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from webapp import config as config_module
from webapp import current, formatting, i18n, request_body
from webapp.config import PROJECT_ROOT
from webapp.persistence.base import Base
from webapp.persistence.database import configure_engine, engine_options
from webapp.security import DatabaseId
from webapp.services.unit_of_work import UnitOfWork
from webapp.sms import make_gateway


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a Regulars app; ``config`` overrides settings (tests pass DATABASE_URL etc.)."""
    settings = config_module.load(overrides=config)
    app = Flask(
        "webapp",
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(settings.instance_path),
    )
    # IDs in URLs fit the database's integer columns; a longer one is simply not found
    # (set before any blueprint adds its routes).
    app.url_map.converters["int"] = DatabaseId
    app.config.update(
        SECRET_KEY=settings.secret_key,
        REGULARS=settings,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url),
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        JSON_SORT_KEYS=False,
    )
    app.config.update(settings.extra)

    db = SQLAlchemy(metadata=Base.metadata, session_options={"expire_on_commit": False})
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    Migrate(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    # The one unit of work: views and commands hand it to services (webapp.current).
    # (looked up per call, so a test may swap the scoped session for a rolled-back one)
    app.extensions[current.EXTENSION] = UnitOfWork(lambda: db.session())

    request_body.init_app(app)  # before CSRF: the size is checked before the form is read
    CSRFProtect(app)
    i18n.init_app(app)

    from staff import auth as staff_auth
    from staff.backoffice.categories import bp as categories_bp
    from staff.backoffice.customers import bp as customers_bp
    from staff.backoffice.flags import bp as flags_bp
    from staff.backoffice.program import bp as program_bp
    from staff.backoffice.staff import bp as staff_bp
    from staff.counter.views import bp as counter_bp
    from wallet.apple.webservice import bp as apple_wallet_bp
    from webapp import errors, security
    from webapp.customer import bp as customer_bp
    from webapp.customer import profile, push, pwa, wallet  # noqa: F401  (customer app's routes)
    from webapp.customer.views import bp as customer_app_bp

    errors.register(app)
    app.register_blueprint(customer_bp)
    app.register_blueprint(customer_app_bp)
    staff_auth.init_app(app)
    app.register_blueprint(program_bp)
    app.register_blueprint(flags_bp)
    app.register_blueprint(staff_bp)
    security.init_app(app)
    app.register_blueprint(customers_bp)
    app.register_blueprint(categories_bp)
    app.register_blueprint(counter_bp)
    app.register_blueprint(apple_wallet_bp)  # exempts itself from CSRF: iOS calls it
    formatting.init_app(app)
    app.extensions["regulars_sms"] = make_gateway(
        str(settings.extra.get("SMS_BACKEND") or "console"), settings.extra)

    return app
