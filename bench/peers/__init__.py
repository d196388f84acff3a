"""The lean peers: the same work as Cashman in a few dozen lines of Flask + marshmallow
(`flask_app`, under gunicorn's sync workers) and of FastAPI + pydantic (`fastapi_app`, under
uvicorn's workers), each replaying the SQL Cashman issued (`replay`). `servers` starts and stops
them for the harness. See bench/README.md, "Peers"."""
