"""Entry point: `gunicorn app:app`, `flask --app app ...`, or `python app.py` for development."""

from membership import create_app

app = create_app()

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(__import__("os").environ.get("PORT", "5000")))
