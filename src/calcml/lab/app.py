"""The lab's web application: one page of our own, Plotly.js from the installed ``plotly`` package, and a
JSON API per panel (derivative, optimizer race, backprop, integral, training, curvature).

Every answer is JSON; every problem is an answer too, never a crash or a dropped connection:

    400  the body is not JSON, or the Host is not this machine      {"error": "...", "kind": "json" | "host"}
    403  a POST from another page (Origin, Sec-Fetch-Site)          {"error": "...", "kind": "forbidden"}
    404  no such endpoint or training run                           {"error": "...", "kind": "http" | "not_found"}
    409  too many training runs at once                             {"error": "...", "kind": "busy"}
    413  the body is larger than MAX_BODY bytes                     {"error": "...", "kind": "too_large"}
    415  a POST body that is not Content-Type: application/json     {"error": "...", "kind": "media_type"}
    422  a field is missing, of the wrong type or out of range,     {"error": "...", "kind": "validation",
         or the math cannot be done as asked (syntax, undefined,     "details": [...]} | {"kind": "parse" |
         numbers too long, timeout, SymPy failing on the input)     "domain" | "limit" | "timeout" | "symbolic"}
    429  no slot for a race, surface or backprop step came free     {"error": "...", "kind": "overloaded"}
    500  a bug: logged, the message says so; the server keeps serving and the connection stays open

Work is bounded: request fields have ranges (schemas.py), symbolic work runs under time limits (in
calcml.symbolic, called from the request's worker thread: the event loop never waits on SymPy, and
/api/health is answered on the loop itself), races under a wall-clock budget, training runs have an epoch
cap, a time cap and a cap on how many run at once, and only two races, surfaces or backprop steps compute
at once (capacity.py). A curvature run is a training run (the same caps; polled and stopped like one) with
bounded sizes, steps and measurements. The checks before any endpoint are in guard.py.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from calcml.lab.backprop import backprop_step
from calcml.lab.capacity import ENGINE_WORK
from calcml.lab.curvature import curvature_run
from calcml.lab.derivative import explore_derivative
from calcml.lab.errors import LabInputError
from calcml.lab.guard import JsonErrors, LocalOnly, problem
from calcml.lab.integral import METHODS, explore_integral
from calcml.lab.optimizer_race import (
    optimizer_catalog,
    race_view,
    resolve_surface,
    run_race,
    surface_catalog,
    surface_grid,
)
from calcml.lab.schemas import (
    MAX_STEP_SIZE,
    BackpropRequest,
    CurvatureRequest,
    DerivativeRequest,
    IntegralRequest,
    RaceRequest,
    SurfaceRequest,
    TrainRequest,
)
from calcml.lab.training import TrainingJobs
from calcml.train.recipes import TUNED_LEARNING_RATES

STATIC = resources.files("calcml.lab") / "static"


@lru_cache(maxsize=1)
def plotly_js_path() -> Path | None:
    """The plotly.min.js bundled with the installed ``plotly`` Python package, or None without it."""
    try:
        import plotly
    except ImportError:
        return None
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


def validation_message(errors: list[dict]) -> tuple[str, list[dict]]:
    """One readable line for pydantic's errors, and the per-field details."""
    details = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        details.append({"field": where, "message": error.get("msg", "invalid")})
    text = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return f"the request is not valid: {text}", details


def create_app() -> FastAPI:
    """The lab's FastAPI application (serve it on 127.0.0.1 only: see ``calcml.lab.server``)."""
    jobs = TrainingJobs()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        jobs.stop_all()

    app = FastAPI(title="calcml lab", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
                  lifespan=lifespan)
    app.state.jobs = jobs
    app.add_middleware(LocalOnly)
    app.add_middleware(JsonErrors)  # the outermost: it sees whatever escaped the handlers below

    @app.exception_handler(LabInputError)
    async def lab_input_error(request: Request, error: LabInputError):
        return problem(error.status, error.message, error.kind)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        errors = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            reason = next(e.get("ctx", {}).get("error", "") for e in errors if e.get("type") == "json_invalid")
            return problem(400, f"the request body is not valid JSON{': ' + str(reason) if reason else ''}.", "json")
        message, details = validation_message(errors)
        return problem(422, message, "validation", details=details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        messages = {404: f"no such page or endpoint: {request.url.path}",
                    405: f"{request.method} is not allowed on {request.url.path}"}
        return problem(error.status_code, messages.get(error.status_code, str(error.detail)), "http")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js():
        path = plotly_js_path()
        if path is None:
            return problem(404, "plotly is not installed, so the plots cannot be drawn: pip install plotly.",
                           "not_found")
        return FileResponse(str(path), media_type="text/javascript", headers={"cache-control": "max-age=3600"})

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/api/health")
    async def health() -> JSONResponse:  # async: answered on the event loop, never queued behind a computation
        return JSONResponse({"status": "ok", "plotly": plotly_js_path() is not None})

    @app.post("/api/derivative")
    def derivative(body: DerivativeRequest) -> JSONResponse:
        return JSONResponse(explore_derivative(body.expr, body.var, body.x_min, body.x_max, body.points))

    @app.get("/api/surfaces")
    def surfaces() -> JSONResponse:
        return JSONResponse({"surfaces": surface_catalog(), "optimizers": optimizer_catalog(),
                             "max_lr": MAX_STEP_SIZE})

    @app.post("/api/surface")
    def surface(body: SurfaceRequest) -> JSONResponse:
        with ENGINE_WORK.slot():
            chosen = resolve_surface(body.name, body.expr, body.x_range, body.y_range)
            return JSONResponse(surface_grid(chosen, body.points))

    @app.post("/api/race")
    def race(body: RaceRequest) -> JSONResponse:
        with ENGINE_WORK.slot():
            chosen = resolve_surface(body.name, body.expr, body.x_range, body.y_range)
            runs = run_race(chosen, body.start, [(run.optimizer, run.lr) for run in body.runs], body.steps)
        return JSONResponse({"surface": chosen.name, "expr": chosen.expression, "start": list(body.start),
                             "runs": runs, "view": race_view(chosen, runs)})

    @app.post("/api/backprop")
    def backprop(body: BackpropRequest) -> JSONResponse:
        with ENGINE_WORK.slot():
            return JSONResponse(backprop_step(body.weights, body.lr, body.seed))

    @app.post("/api/integral")
    def integral(body: IntegralRequest) -> JSONResponse:
        return JSONResponse(explore_integral(body.expr, body.a, body.b, body.n, body.method))

    @app.get("/api/integral/methods")
    def integral_methods() -> JSONResponse:
        return JSONResponse({"methods": list(METHODS)})

    @app.post("/api/train", status_code=202)
    def train(body: TrainRequest) -> JSONResponse:
        job_id = jobs.start_digits(body.epochs, body.hidden, body.optimizer, body.lr, body.batch_size, body.seed)
        return JSONResponse(jobs.snapshot(job_id), status_code=202)

    @app.post("/api/curvature", status_code=202)
    def curvature(body: CurvatureRequest) -> JSONResponse:
        job_id = jobs.start({**body.model_dump(), "epochs": body.steps}, curvature_run)  # full batch: a step an epoch
        return JSONResponse(jobs.snapshot(job_id), status_code=202)

    @app.get("/api/train/optimizers")
    def train_optimizers() -> JSONResponse:
        return JSONResponse({"optimizers": list(TUNED_LEARNING_RATES)})

    @app.get("/api/train/{job_id}")
    def train_status(job_id: str, since: int = 0) -> JSONResponse:
        return JSONResponse(jobs.snapshot(job_id, max(0, since)))

    @app.post("/api/train/{job_id}/stop")
    def train_stop(job_id: str) -> JSONResponse:
        return JSONResponse(jobs.stop(job_id))

    return app
