"""A front-line staff member's morning: whom to contact today, when, how, and why.

1. The synthetic company (consumers, accounts and deals) is seen as one 360-degree view per
   person, built for staff member s03 with the "sales" role: identifiers masked, colleagues'
   private notes left out.
2. The day is planned for the whole team (one staff member has left: their customers are handed
   over) with the default playbook, contact-pressure caps and a 10 % holdout.
3. s03 reads their task list, then opens the view of their most valuable customer.
4. The outcomes of the morning's first actions are recorded as events and folded back into the
   profiles; after a (simulated) week, the plays are evaluated against the holdout.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from clientmodel.datasets.accounts import make_accounts
from clientmodel.datasets.consumers import make_consumers
from clientmodel.profile import Profile, apply
from clientmodel.view import (
    DEFAULT_PLAYBOOK,
    ContactPressure,
    Holdout,
    Viewer,
    day_plan,
    demo_views,
    flatten,
    next_actions,
    outcome_event,
    play_evaluation,
)

consumers = make_consumers(300, seed=0)
accounts = make_accounts(8, seed=0, as_of=consumers.as_of)
me = Viewer(staff_id="s03", roles=("sales",))
views, staff = demo_views(consumers, accounts, viewer=me)
morning = consumers.as_of + dt.timedelta(hours=1)  # 09:00 in Shanghai
holdout = Holdout(seed=2024, share=0.1)

# ---- 1-2. the team's day
plan = day_plan(
    views,
    DEFAULT_PLAYBOOK,
    as_of=morning,
    staff=staff,
    capacity=15,
    pressure=ContactPressure(tz="Asia/Shanghai"),
    holdout=holdout,
)
print(plan.render(limit=2))
print()

# ---- 3. my list, and my best customer seen whole
mine = plan.tasks_of("s03")
print(f"s03 has {len(mine)} tasks this morning:")
for task in mine[:5]:
    numbers = ", ".join(
        f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in task.numbers
    )
    print(f"  {task.send_at:%a %H:%M} {task.action} for {task.person_id} via {task.channel}")
    print(f"      because {' and '.join(task.reasons)}  [{numbers}]")
best = next(v for v in views if v.person_id == mine[0].person_id)
print(f"\nThe 360 view of {best.person_id} (missing parts: {list(best.missing)}):")
print(json.dumps({k: v for k, v in flatten(best).items() if v is not None}, indent=1, default=str))
# what s03 may not see never reaches the view at all
assert all(i.masked for i in (best.identity.identifiers if best.identity else ()))

# ---- 4. the loop back: outcomes fold into the profiles like any other event
rng = np.random.default_rng(0)
profiles = {v.person_id: Profile(profile_id=v.person_id) for v in views}
outcomes = []
for view in views:
    actions = next_actions(view, DEFAULT_PLAYBOOK, as_of=morning).actions
    if not actions:
        continue
    action = actions[0]
    held = holdout.holds(view.person_id)
    replied = (not held) and rng.random() < action.p_response + 0.1
    bought = rng.random() < (0.15 if replied else 0.05)
    if not held:
        events = [outcome_event(action, "sent", at=morning)]
        if replied:
            events.append(outcome_event(action, "replied", at=morning + dt.timedelta(hours=3)))
        profiles[view.person_id], _ = apply(
            profiles[view.person_id], events, as_of=morning + dt.timedelta(hours=4)
        )
    segment = view.segment.rfm_segment if view.segment and view.segment.rfm_segment else "none"
    outcomes.append(
        {
            "person_id": view.person_id,
            "play_id": action.play_id,
            "segment": segment,
            "responded": bool(replied),
            "converted": bool(bought),
        }
    )
replied_total = sum(p.activity.counts_by_type.get("action_replied", 0) for p in profiles.values())
print(f"\n{replied_total} replies folded back into the profiles")
evaluation = play_evaluation(pd.DataFrame(outcomes), holdout=holdout, segment=None)
columns = ["play_id", "n_contacted", "n_held_out", "response_rate", "uplift", "uplift_low"]
print(evaluation[columns].round(3).to_string(index=False))
