"""The dunning bodies by their former path, while callers move to the modules of each concept:
`dunning_policies` (policies, simulation), `dunning_timeline` (agenda, an invoice's timeline and penalties),
`dunning_tasks` (the ops task queue, the sweep, the simulated clock)."""

from ar.api.schemas.dunning_policies import (
    AssignedPolicyOut,
    AssignPolicyIn,
    CurrencyAmount,
    PolicyIn,
    PolicyOut,
    SimulatedReminderOut,
    SimulateIn,
    SimulationOut,
    StepIn,
    StepOut,
)
from ar.api.schemas.dunning_tasks import ClockIn, ClockOut, SweepOut, TaskDoneIn, TaskOut
from ar.api.schemas.dunning_timeline import (
    AgendaOut,
    AgendaRow,
    NextActionOut,
    PenaltyClaimOut,
    PenaltyLineOut,
    PenaltyOut,
    PlannedStepOut,
    PromiseIn,
    PromiseOut,
    ReasonIn,
    StepTakenOut,
    TimelineOut,
)

__all__ = ["AgendaOut", "AgendaRow", "AssignPolicyIn", "AssignedPolicyOut", "ClockIn", "ClockOut", "CurrencyAmount",
           "NextActionOut", "PenaltyClaimOut", "PenaltyLineOut", "PenaltyOut", "PlannedStepOut", "PolicyIn",
           "PolicyOut", "PromiseIn", "PromiseOut", "ReasonIn", "SimulateIn", "SimulatedReminderOut", "SimulationOut",
           "StepIn", "StepOut", "StepTakenOut", "SweepOut", "TaskDoneIn", "TaskOut", "TimelineOut"]
