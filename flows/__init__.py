"""Channel-blind conversation logic: finite-state flows whose state lives in the database.

One folder per feature, over a small kernel; each imports only what is below it (checked by
`lint-imports`, see pyproject.toml):

    registry.py      which flows exist and what reaches them from anywhere (wires the features)
    safety/          screening, referral, help directory, moderation, quick exit, erasure, retention
    supporters/      invites, the supporter's profile, approval, duty, coordinator commands
    outreach/        campaigns and the news switch
    conversation/    intake, matching, relay, feedback: a help-seeker's way to a supporter and back
    kernel           context, events, commands, alerts, audit, aliases, metrics, data_files,
                     detour, weekly_hours: what every flow shares

safety, supporters and outreach never import each other; the kernel imports no feature.
"""
