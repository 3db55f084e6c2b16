"""The samplers and schedule types atlas offers, with the properties A1111 (>= 1.9) gives each.

Kept free of torch so the CLI can validate a name (and list the known ones) before loading a model.
Since A1111 1.9 a sampler ("DPM++ 2M") and its schedule type ("Karras") are two settings; before,
a non-default schedule was a suffix of the sampler's name ("DPM++ 2M Karras"), and a bare name
meant the model's own (Uniform) schedule. `resolve` turns either form into (sampler, schedule).
"""

from dataclasses import dataclass

from atlas.core.errors import BadInput
from atlas.core.sampler_names import SCHEDULE_TYPES

AUTOMATIC = "Automatic"
UNIFORM = "Uniform"


@dataclass(frozen=True)
class Sampler:
    """One A1111 sampler: its k-diffusion algorithm and A1111's flags for it."""

    name: str
    algorithm: str  # the k-diffusion function it runs, or "timesteps" (DDIM/PLMS/UniPC: no sigma schedule)
    default_schedule: str = UNIFORM  # what "Automatic" means for it
    discard_next_to_last_sigma: bool = False  # ask the schedule for one more step, then drop its penultimate
    second_order: bool = False  # two model calls a step (A1111's progress counts both)
    uses_ensd: bool = False  # its noise follows the eta noise seed delta (A1111 writes ENSD for it)
    brownian_noise: bool = False  # SDE noise from a Brownian tree seeded with the image seeds
    eta: float | None = None  # the eta it runs with (A1111's default "Eta for ancestral samplers": 1)
    solver_type: str | None = None  # DPM++ 2M SDE's second-order correction: midpoint (default) or heun
    legacy_schedule: str = UNIFORM  # what the bare name meant before A1111 1.9 (and in old records)

    @property
    def uses_sigmas(self) -> bool:
        return self.algorithm != "timesteps"


_SAMPLERS = (
    Sampler("Euler a", "euler_ancestral", uses_ensd=True, eta=1.0),
    Sampler("Euler", "euler"),
    Sampler("LMS", "lms"),
    Sampler("Heun", "heun", second_order=True),
    Sampler("DPM2", "dpm_2", "Karras", discard_next_to_last_sigma=True, second_order=True),
    Sampler("DPM2 a", "dpm_2_ancestral", "Karras", discard_next_to_last_sigma=True, second_order=True,
            uses_ensd=True, eta=1.0),
    Sampler("DPM++ 2S a", "dpmpp_2s_ancestral", "Karras", second_order=True, uses_ensd=True, eta=1.0),
    Sampler("DPM++ 2M", "dpmpp_2m", "Karras"),
    Sampler("DPM++ SDE", "dpmpp_sde", "Karras", second_order=True, brownian_noise=True, eta=1.0),
    Sampler("DPM++ 2M SDE", "dpmpp_2m_sde", "Exponential", brownian_noise=True, eta=1.0),
    Sampler("DPM++ 2M SDE Heun", "dpmpp_2m_sde", "Exponential", brownian_noise=True, eta=1.0, solver_type="heun"),
    Sampler("DPM++ 3M SDE", "dpmpp_3m_sde", "Exponential", discard_next_to_last_sigma=True, brownian_noise=True,
            eta=1.0),
    # A1111's own sampler (not in k-diffusion); its restart noise comes from the per-image generators,
    # yet A1111 does not mark it as using ENSD.
    Sampler("Restart", "restart", "Karras", second_order=True, legacy_schedule="Karras"),
    # Timestep samplers: A1111 runs them on the model's timesteps and ignores the schedule type.
    Sampler("DDIM", "timesteps", AUTOMATIC),
    Sampler("PLMS", "timesteps", AUTOMATIC),
    Sampler("UniPC", "timesteps", AUTOMATIC),
)

SAMPLERS: dict[str, Sampler] = {s.name: s for s in _SAMPLERS}

# atlas computes every schedule type A1111 offers; "Automatic" stands for the sampler's default.
SCHEDULES = tuple(s for s in SCHEDULE_TYPES if s != AUTOMATIC)


def _known(name: str, known) -> str | None:
    text = name.strip().lower()
    return next((k for k in known if k.lower() == text), None)


def split(name: str) -> tuple[str, str | None]:
    """(A1111 sampler name, schedule or None) for a name atlas offers, old combined names included:
    "DPM++ 2M Karras" -> ("DPM++ 2M", "Karras"), "euler a" -> ("Euler a", None).

    An unknown name raises BadInput listing the known ones."""
    if (found := _known(name, SAMPLERS)) is not None:
        return found, None
    text = name.strip()
    for schedule in sorted(SCHEDULES, key=len, reverse=True):
        if text.lower().endswith(" " + schedule.lower()):
            found = _known(text[:-len(schedule) - 1], SAMPLERS)
            if found is not None and SAMPLERS[found].uses_sigmas:
                return found, schedule
    raise BadInput(f"unknown sampler {name!r}; known samplers: " + ", ".join(SAMPLERS))


def canonical(name: str) -> str:
    """The A1111 spelling of `name` (matched case-insensitively), or a BadInput listing the known.

    An old combined name keeps its schedule ("dpm++ 2m karras" -> "DPM++ 2M Karras"), so that a
    request checked early loses nothing; `resolve` splits it."""
    sampler, schedule = split(name)
    return f"{sampler} {schedule}" if schedule else sampler


def schedule_name(name: str) -> str:
    """A1111's label of a schedule type atlas offers ("karras" -> "Karras"), "Automatic" included."""
    found = _known(name, (AUTOMATIC, *SCHEDULES))
    if found is None:
        raise BadInput(f"unknown schedule type {name!r}; known schedule types: "
                       + ", ".join((AUTOMATIC, *SCHEDULES)))
    return found


def resolve(name: str, schedule: str | None = None) -> tuple[str, str]:
    """(sampler, schedule type that runs) for a sampler name and an optional schedule type.

    "Automatic" (or no schedule) is the sampler's default as A1111 defines it ("DPM++ 2M" -> Karras,
    "Euler" -> Uniform). A schedule carried by an old combined name counts as chosen; naming a
    different one beside it is refused. DDIM, PLMS and UniPC ignore schedules (A1111 does too), so
    theirs is always "Automatic"."""
    sampler, suffix = split(name)
    chosen = schedule_name(schedule) if schedule else AUTOMATIC
    if suffix is not None and chosen not in (AUTOMATIC, suffix):
        raise BadInput(f"sampler {name!r} already names schedule type {suffix!r}, not {chosen!r}")
    chosen = suffix or chosen
    spec = SAMPLERS[sampler]
    if not spec.uses_sigmas:
        return sampler, AUTOMATIC
    return sampler, spec.default_schedule if chosen == AUTOMATIC else chosen


def recorded(sampler: str, schedule: str | None) -> tuple[str, str]:
    """(sampler, schedule that ran) for what a record holds: a pass's sampler and its
    settings["schedule_type"]. With no schedule recorded a bare name means what it meant in A1111
    before 1.9 and in old records: Uniform (Karras for Restart, which always ran on it); an explicit
    "Automatic" (A1111 >= 1.9) is the sampler's default."""
    name, suffix = split(sampler)
    if not schedule and not suffix and SAMPLERS[name].uses_sigmas:
        return name, SAMPLERS[name].legacy_schedule
    return resolve(sampler, schedule)
