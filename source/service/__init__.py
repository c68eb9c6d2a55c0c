"""The studio over HTTP: ``service.app.create_app(ServiceSettings(...))`` (FastAPI), run by ``run.py serve``."""
