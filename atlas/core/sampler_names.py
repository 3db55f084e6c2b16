"""Sampler and schedule names as the tools of the field write them into their files, and A1111's name for each.

Read on import (`importers.a1111`) and by search (`sampler:`, `schedule:`), so that one sampler has one
name whatever wrote it. atlas's own generation samplers and their A1111 facts are `record.samplers`.
"""

# Every sampler name A1111 (and its forks) offers, as it writes them in `Sampler:` since 1.9.
A1111_NAMES = ("Euler a", "Euler", "LMS", "Heun", "DPM2", "DPM2 a", "DPM++ 2S a", "DPM++ 2M", "DPM++ SDE",
               "DPM++ 2M SDE", "DPM++ 2M SDE Heun", "DPM++ 3M SDE", "DPM fast", "DPM adaptive", "Restart", "DDIM",
               "DDIM CFG++", "PLMS", "UniPC", "LCM", "Euler CFG++", "Euler a CFG++", "DPM++ 2M CFG++")

# A1111's schedule types (`Schedule type:` since 1.9); before 1.9 the non-default ones were a suffix
# of the sampler name ("DPM++ 2M Karras").
SCHEDULE_TYPES = ("Automatic", "Uniform", "Karras", "Exponential", "Polyexponential", "SGM Uniform", "KL Optimal",
                  "Align Your Steps", "Simple", "Normal", "DDIM", "Beta")

# k-diffusion's sampler function names, which ComfyUI, NovelAI (`k_` prefix), InvokeAI and SwarmUI write.
FOREIGN_SAMPLERS = {
    "euler": "Euler", "euler_ancestral": "Euler a", "euler_a": "Euler a", "lms": "LMS", "heun": "Heun",
    "dpm_2": "DPM2", "kdpm_2": "DPM2", "dpm_2_ancestral": "DPM2 a", "kdpm_2_a": "DPM2 a",
    "dpmpp_2s_ancestral": "DPM++ 2S a", "dpmpp_2s": "DPM++ 2S a", "dpmpp_2m": "DPM++ 2M", "dpmpp_sde": "DPM++ SDE",
    "dpmpp_sde_gpu": "DPM++ SDE", "dpmpp_2m_sde": "DPM++ 2M SDE", "dpmpp_2m_sde_gpu": "DPM++ 2M SDE",
    "dpmpp_2m_sde_heun": "DPM++ 2M SDE Heun", "dpmpp_3m_sde": "DPM++ 3M SDE", "dpmpp_3m_sde_gpu": "DPM++ 3M SDE",
    "dpm_fast": "DPM fast", "dpm_adaptive": "DPM adaptive", "restart": "Restart", "ddim": "DDIM", "plms": "PLMS",
    "pndm": "PLMS", "uni_pc": "UniPC", "unipc": "UniPC", "lcm": "LCM", "euler_cfg_pp": "Euler CFG++",
    "euler_ancestral_cfg_pp": "Euler a CFG++", "dpmpp_2m_cfg_pp": "DPM++ 2M CFG++",
}
# Schedulers as ComfyUI/SwarmUI name them, and as suffixes of a sampler name ("dpmpp_2m_karras", InvokeAI's "_k").
FOREIGN_SCHEDULES = {"normal": "Normal", "karras": "Karras", "exponential": "Exponential", "simple": "Simple",
                     "sgm_uniform": "SGM Uniform", "ddim_uniform": "Uniform", "beta": "Beta",
                     "kl_optimal": "KL Optimal", "align_your_steps": "Align Your Steps", "k": "Karras"}
# Prefixes other tools put before k-diffusion's names: NovelAI/InvokeAI's "k_", sd-parsers' "sample_".
FOREIGN_PREFIXES = ("k_", "sample_")


def _a1111_name(name: str) -> str | None:
    lowered = name.lower()
    return next((known for known in A1111_NAMES if known.lower() == lowered), None)


def schedule_type(name: str | None) -> str | None:
    """A1111's spelling of a schedule type written by any tool ("karras" -> "Karras"), or None."""
    if not name or not name.strip():
        return None
    text = name.strip()
    known = next((s for s in SCHEDULE_TYPES if s.lower() == text.lower()), None)
    return known or FOREIGN_SCHEDULES.get(text.lower())


def normalise(name: str | None) -> tuple[str | None, str | None]:
    """(A1111's sampler name, schedule type or None) for a sampler name as any tool wrote it.

    "DPM++ 2M Karras" (A1111 before 1.9) -> ("DPM++ 2M", "Karras"); "euler_ancestral" -> ("Euler a", None);
    "k_dpmpp_2m_karras" -> ("DPM++ 2M", "Karras"). A name nobody maps comes back as it was.
    """
    if not name or not name.strip():
        return None, None
    text = name.strip()
    if (known := _a1111_name(text)) is not None:
        return known, None
    for schedule in sorted(SCHEDULE_TYPES, key=len, reverse=True):  # A1111's old "<sampler> <schedule>"
        if text.lower().endswith(" " + schedule.lower()) and (known := _a1111_name(text[:-len(schedule) - 1])):
            return known, schedule
    key = text.lower().replace(" ", "_").replace("-", "_")
    for prefix in FOREIGN_PREFIXES:
        key = key.removeprefix(prefix)
    if key in FOREIGN_SAMPLERS:
        return FOREIGN_SAMPLERS[key], None
    base, _, suffix = key.rpartition("_")
    for candidate, schedule in ((base, suffix), (key.rsplit("_", 2)[0], "_".join(key.rsplit("_", 2)[1:]))):
        if candidate in FOREIGN_SAMPLERS and schedule in FOREIGN_SCHEDULES:
            return FOREIGN_SAMPLERS[candidate], FOREIGN_SCHEDULES[schedule]
    return text, None


def spellings(name: str) -> set[str]:
    """Every spelling (lower case) that `normalise` reads as the same sampler as `name`, `name` included."""
    a1111, _ = normalise(name)
    found = {name.strip().lower()}
    if a1111 is None:
        return found
    found.add(a1111.lower())
    for foreign, known in FOREIGN_SAMPLERS.items():
        if known == a1111:
            found.update(prefix + foreign for prefix in ("", *FOREIGN_PREFIXES))
    return found
