"""`/problems/<code>`: what each problem `type` means, so the URI in an error leads somewhere useful."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.errors import ApiError
from gateway.problem_types import PROBLEMS, problem_type

router = APIRouter(prefix="/problems", include_in_schema=False)


@router.get("/")
async def all_problems() -> list[dict[str, object]]:
    return [describe(code) for code in sorted(PROBLEMS)]


@router.get("/{code}")
async def one_problem(code: str) -> dict[str, object]:
    if code not in PROBLEMS:
        raise ApiError(404, "NotFound", f"No problem type {code!r}; see /problems/.")
    return describe(code)


def describe(code: str) -> dict[str, object]:
    p = PROBLEMS[code]
    return {
        "type": problem_type(code),
        "code": code,
        "status": p.status,
        "title": p.title,
        "description": p.description,
    }
