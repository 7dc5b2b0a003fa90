"""The baseline for bench/webhook.py: a FastAPI hello-world that reads the form body too."""

from fastapi import FastAPI, Request
from fastapi.responses import Response

app = FastAPI()


@app.get("/hello")
async def hello_get() -> Response:
    """Readiness probe of the baseline."""
    return Response("hello", media_type="text/plain")


@app.post("/hello")
async def hello(request: Request) -> Response:
    """Read the body and answer, as a webhook does at the very least."""
    await request.body()
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response/>', media_type="text/xml")
