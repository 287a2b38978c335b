"""The application layer: what the app does to a picture, once, for both faces (the CLI and the window).

``modes.MODES`` is the one table of modes; ``Options`` holds every setting of a job and validates it;
``naming`` turns an input and options into the output's path; ``jobs.process`` / ``run_job`` run a mode on a
picture or a file and ``plan_batch`` plans a batch. No Qt here; torch only when a model is loaded.
"""

from anisketch_desktop.application.formatting import format_duration, format_eta
from anisketch_desktop.application.jobs import (
    BatchPlan,
    JobOutcome,
    OutputPlanner,
    PlannedJob,
    RunInfo,
    plan_batch,
    process,
    run_job,
)
from anisketch_desktop.application.modes import MODES, OPTION_GROUPS, OUTPUT_KINDS, Mode, get_mode
from anisketch_desktop.application.naming import DEFAULT_TEMPLATE, FIELDS, check_template, output_path
from anisketch_desktop.application.options import IF_EXISTS, Options

__all__ = [
    "BatchPlan", "DEFAULT_TEMPLATE", "FIELDS", "IF_EXISTS", "JobOutcome", "MODES", "Mode", "OPTION_GROUPS",
    "OUTPUT_KINDS", "Options", "OutputPlanner", "PlannedJob", "RunInfo", "check_template", "format_duration",
    "format_eta", "get_mode", "output_path", "plan_batch", "process", "run_job",
]
